"""French. CLDR puts 0 and 1 in the "one" category and very large round numbers in "many"."""

from __future__ import annotations

from alertd.messages.locales import Phrases

__all__ = ["PHRASES"]

# French typography: a no-break space before ":" and inside « », so a line never breaks there.
_NB = "\u00a0"

PHRASES = Phrases(
    today="aujourd’hui",
    tomorrow="demain",
    yesterday="hier",
    now="maintenant",
    in_days={"one": "dans {n} jour", "many": "dans {n} de jours", "other": "dans {n} jours"},
    days_ago={"one": "il y a {n} jour", "many": "il y a {n} de jours", "other": "il y a {n} jours"},
    in_hours={"one": "dans {n} heure", "other": "dans {n} heures"},
    in_minutes={"one": "dans {n} minute", "other": "dans {n} minutes"},
    started_hours_ago={"one": "a commencé il y a {n} heure", "other": "a commencé il y a {n} heures"},
    started_minutes_ago={"one": "a commencé il y a {n} minute", "other": "a commencé il y a {n} minutes"},
    weeks={"one": "{n} semaine", "other": "{n} semaines"},
    days={"one": "{n} jour", "other": "{n} jours"},
    business_days={"one": "{n} jour ouvré", "other": "{n} jours ouvrés"},
    hours={"one": "{n} heure", "other": "{n} heures"},
    minutes={"one": "{n} minute", "other": "{n} minutes"},
    seconds={"one": "{n} seconde", "other": "{n} secondes"},
    unit_join=" ",
    before="{duration} avant",
    after="{duration} après",
    at_start="au début",
    all_day="toute la journée",
    statuses={"tentative": "provisoire", "confirmed": "confirmé", "postponed": "reporté", "cancelled": "annulé"},
    status_line=f"Statut{_NB}: {{status}}",
    source_line=f"Source{_NB}: {{source}}",
    reminder_title="{title} — {distance}",
    reminder_text=f"{{title}}{_NB}: {{distance}}.",
    countdown_title="Compte à rebours du {day}",
    countdown_line="• {title} — {distance} ({day})",
    day_elsewhere="{day} ; {own} à {zone}",
    change_title=f"Modifié{_NB}: {{title}}",
    change_titles={
        "added": f"Nouveau{_NB}: {{title}}",
        "moved": f"Déplacé{_NB}: {{title}}",
        "confirmed": f"Confirmé{_NB}: {{title}}",
        "postponed": f"Reporté{_NB}: {{title}}",
        "cancelled": f"Annulé{_NB}: {{title}}",
        "removed": f"Retiré{_NB}: {{title}}",
    },
    change_text=f"{{title}}{_NB}: {{sentence}}.",
    moved="déplacé du {before} au {after}",
    status_changed="statut passé de {before} à {after}",
    renamed=f"renommé, anciennement «{_NB}{{before}}{_NB}»",
    id_changed=f"désormais listé sous «{_NB}{{after}}{_NB}» (auparavant «{_NB}{{before}}{_NB}»), à la même heure",
    added="ajouté au calendrier pour le {when}",
    removed=f"retiré du calendrier{_NB}; ses rappels sont annulés",
    details_changed="détails modifiés",
    clause_join=f"{_NB}; ",
    test_title="Notification de test alertd",
    test_text=(
        f"Ceci est un test d’alertd pour le canal «{_NB}{{channel}}{_NB}». Si vous le lisez, la remise fonctionne."
    ),
    field_line=f"{{label}}{_NB}: {{value}}",
    label_when="Quand",
    label_your_time="Votre heure locale",
    label_countdown="Compte à rebours",
    label_status="Statut",
    label_tags="Étiquettes",
    label_source="Source",
    open_source="Ouvrir la source",
    label_notes="Notes",
    label_title="Titre",
    label_id="Identifiant",
    label_what_changed="Modifications",
    and_more={"one": "…et {n} autre", "many": "…et {n} d’autres", "other": "…et {n} autres"},
    nothing_coming_up="aucun événement à venir",
    sent_late="envoyé en retard (prévu le {when})",
    removed_short="retiré du calendrier",
    card_updated=f"fiche de compte à rebours alertd · mise à jour{_NB}: {{when}}",
)
