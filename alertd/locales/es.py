"""Spanish. CLDR puts very large round numbers in the "many" category."""

from __future__ import annotations

from alertd.locales import Phrases

__all__ = ["PHRASES"]

PHRASES = Phrases(
    today="hoy",
    tomorrow="mañana",
    yesterday="ayer",
    now="ahora",
    in_days={"one": "dentro de {n} día", "many": "dentro de {n} de días", "other": "dentro de {n} días"},
    days_ago={"one": "hace {n} día", "many": "hace {n} de días", "other": "hace {n} días"},
    in_hours={"one": "dentro de {n} hora", "other": "dentro de {n} horas"},
    in_minutes={"one": "dentro de {n} minuto", "other": "dentro de {n} minutos"},
    started_hours_ago={"one": "empezó hace {n} hora", "other": "empezó hace {n} horas"},
    started_minutes_ago={"one": "empezó hace {n} minuto", "other": "empezó hace {n} minutos"},
    weeks={"one": "{n} semana", "other": "{n} semanas"},
    days={"one": "{n} día", "other": "{n} días"},
    hours={"one": "{n} hora", "other": "{n} horas"},
    minutes={"one": "{n} minuto", "other": "{n} minutos"},
    seconds={"one": "{n} segundo", "other": "{n} segundos"},
    unit_join=" ",
    before="{duration} antes",
    after="{duration} después",
    at_start="al inicio",
    all_day="todo el día",
    statuses={"tentative": "provisional", "confirmed": "confirmado", "postponed": "aplazado", "cancelled": "cancelado"},
    status_line="Estado: {status}",
    source_line="Fuente: {source}",
    reminder_title="{title} — {distance}",
    reminder_text="{title}: {distance}.",
    countdown_title="Cuenta atrás del {day}",
    countdown_line="• {title} — {distance} ({day})",
    change_title="Cambio: {title}",
    change_text="{title}: {sentence}.",
    moved="movido del {before} al {after}",
    status_changed="estado cambiado de {before} a {after}",
    renamed="renombrado; antes «{before}»",
    added="añadido al calendario para el {when}",
    removed="eliminado del calendario; sus recordatorios se cancelan",
    details_changed="detalles cambiados",
    clause_join="; ",
    test_title="Notificación de prueba de alertd",
    test_text="Esta es una prueba de alertd para el canal «{channel}». Si puede leerla, la entrega funciona.",
)
