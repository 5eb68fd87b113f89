"""German."""

from __future__ import annotations

from alertd.locales import Phrases

__all__ = ["PHRASES"]

PHRASES = Phrases(
    today="heute",
    tomorrow="morgen",
    yesterday="gestern",
    now="jetzt",
    in_days={"one": "in {n} Tag", "other": "in {n} Tagen"},
    days_ago={"one": "vor {n} Tag", "other": "vor {n} Tagen"},
    in_hours={"one": "in {n} Stunde", "other": "in {n} Stunden"},
    in_minutes={"one": "in {n} Minute", "other": "in {n} Minuten"},
    started_hours_ago={"one": "begann vor {n} Stunde", "other": "begann vor {n} Stunden"},
    started_minutes_ago={"one": "begann vor {n} Minute", "other": "begann vor {n} Minuten"},
    weeks={"one": "{n} Woche", "other": "{n} Wochen"},
    days={"one": "{n} Tag", "other": "{n} Tage"},
    hours={"one": "{n} Stunde", "other": "{n} Stunden"},
    minutes={"one": "{n} Minute", "other": "{n} Minuten"},
    seconds={"one": "{n} Sekunde", "other": "{n} Sekunden"},
    unit_join=" ",
    before="{duration} vorher",
    after="{duration} danach",
    at_start="zum Beginn",
    all_day="ganztägig",
    statuses={"tentative": "vorläufig", "confirmed": "bestätigt", "postponed": "verschoben", "cancelled": "abgesagt"},
    status_line="Status: {status}",
    source_line="Quelle: {source}",
    reminder_title="{title} — {distance}",
    reminder_text="{title}: {distance}.",
    countdown_title="Countdown für {day}",
    countdown_line="• {title} — {distance} ({day})",
    change_title="Geändert: {title}",
    change_text="{title}: {sentence}.",
    moved="verschoben von {before} auf {after}",
    status_changed="Status geändert von {before} zu {after}",
    renamed="umbenannt, vorher „{before}“",
    added="in den Kalender aufgenommen für {when}",
    removed="aus dem Kalender entfernt; die Erinnerungen sind storniert",
    details_changed="Details geändert",
    clause_join="; ",
    test_title="alertd-Testbenachrichtigung",
    test_text=(
        "Dies ist ein Test von alertd an den Kanal „{channel}“. Wenn Sie ihn lesen können, funktioniert die Zustellung."
    ),
    label_when="Wann",
    label_your_time="Ihre Zeit",
    label_countdown="Countdown",
    label_status="Status",
    label_tags="Schlagwörter",
    label_source="Quelle",
    label_notes="Notizen",
    label_title="Titel",
    label_what_changed="Was sich geändert hat",
    and_more={"one": "…und {n} weiterer", "other": "…und {n} weitere"},
    nothing_coming_up="nichts Anstehendes",
    sent_late="verspätet gesendet (fällig war {when})",
    removed_short="aus dem Kalender entfernt",
)
