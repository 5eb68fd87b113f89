from __future__ import annotations

import pkgutil
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_skeleton

import alertd.messages.locales
from alertd.calendar.load import load_calendar
from alertd.errors import CalendarError, CalendarIssue
from alertd.messages.i18n import LOCALES, format_day, format_time, offset_text, phrases, plural, relative_text

# Translations written by hand, one row per shipped locale: 0, 1, 2, 5 and 21 days ahead.
COUNTDOWN = {
    "en": ("today", "tomorrow", "in 2 days", "in 5 days", "in 21 days"),
    "zh": ("今天", "明天", "2天后", "5天后", "21天后"),
    "de": ("heute", "morgen", "in 2 Tagen", "in 5 Tagen", "in 21 Tagen"),
    "fr": ("aujourd’hui", "demain", "dans 2 jours", "dans 5 jours", "dans 21 jours"),
    "es": ("hoy", "mañana", "dentro de 2 días", "dentro de 5 días", "dentro de 21 días"),
    "ja": ("今日", "明日", "2日後", "5日後", "21日後"),
}
PAST = {
    "en": ("yesterday", "3 days ago", "started 2 hours ago"),
    "zh": ("昨天", "3天前", "已开始2小时"),
    "de": ("gestern", "vor 3 Tagen", "begann vor 2 Stunden"),
    "fr": ("hier", "il y a 3 jours", "a commencé il y a 2 heures"),
    "es": ("ayer", "hace 3 días", "empezó hace 2 horas"),
    "ja": ("昨日", "3日前", "2時間前に開始"),
}


def test_every_phrase_table_is_a_shipped_locale_and_back() -> None:
    """The locales a channel may name are exactly the tables in alertd/locales/."""
    modules = {m.name for m in pkgutil.iter_modules(alertd.messages.locales.__path__)}
    assert modules == set(LOCALES)
    assert set(COUNTDOWN) == set(LOCALES)


@pytest.mark.parametrize(
    ("locale", "days", "text"),
    [(loc, days, text) for loc, row in COUNTDOWN.items() for days, text in zip((0, 1, 2, 5, 21), row, strict=True)],
)
def test_countdown_wording_in_every_locale(locale: str, days: int, text: str) -> None:
    """Today, tomorrow and "in N days" read naturally in each shipped language."""
    assert relative_text(days * 86400, days, True, locale) == text


@pytest.mark.parametrize("locale", LOCALES)
def test_past_wording_in_every_locale(locale: str) -> None:
    """Yesterday, days ago and a timed event that already started."""
    yesterday, ago, started = PAST[locale]
    assert relative_text(-86400, -1, True, locale) == yesterday
    assert relative_text(-3 * 86400, -3, True, locale) == ago
    assert relative_text(-2 * 3600, 0, False, locale) == started


def test_plural_follows_cldr_rules() -> None:
    """French puts 0 in the singular, English does not; Chinese has a single form."""
    assert plural(phrases("fr").days, 0, "fr") == "0 jour"
    assert plural(phrases("en").days, 0, "en") == "0 days"
    assert plural(phrases("de").days, 1, "de") == "1 Tag"
    assert plural(phrases("zh").days, 1, "zh") == "1天"


def test_plural_missing_category_reads_as_other() -> None:
    """A table may leave out rare categories (French "many" for millions is there, others fall back)."""
    assert plural({"other": "{n} x"}, 1, "en") == "1 x"
    assert plural(phrases("fr").days_ago, 1_000_000, "fr") == "il y a 1\u202f000\u202f000 de jours"


@pytest.mark.parametrize(
    ("offset", "locale", "text"),
    [
        ("7d", "en", "7 days before"),
        ("1w", "en", "1 week before"),
        ("+1d12h", "en", "1 day 12 hours after"),
        ("0m", "en", "at the start"),
        ("7d", "de", "7 Tage vorher"),
        ("1d", "fr", "1 jour avant"),
        ("2h", "es", "2 horas antes"),
        ("7d", "zh", "提前7天"),
        ("+1d12h", "ja", "開始から1日12時間後"),
        ("3bd", "en", "3 business days before"),
        ("+1bd", "en", "1 business day after"),
        ("3bd12h", "de", "3 Werktage 12 Stunden vorher"),
        ("2bd", "zh", "提前2个工作日"),
    ],
)
def test_offset_text_is_a_localized_duration(offset: str, locale: str, text: str) -> None:
    """Reminder offsets read as durations before or after the start."""
    assert offset_text(offset, locale) == text


def test_offset_text_of_no_offset_is_empty() -> None:
    """Countdowns, changes and tests have no offset."""
    assert offset_text(None, "de") == ""


def test_english_dates_keep_the_day_month_year_house_style() -> None:
    """English is written ``Mon 10 Nov 2025`` (an explicit pattern, not the US skeleton order)."""
    assert format_day(date(2025, 11, 10), "en") == "Mon 10 Nov 2025"


@pytest.mark.parametrize("locale", [loc for loc in LOCALES if loc != "en"])
def test_other_dates_follow_the_locale_skeleton(locale: str) -> None:
    """Other locales use CLDR's own order for weekday, day, month and year."""
    day = date(2025, 11, 10)
    expected = format_skeleton("yMMMEd", datetime(2025, 11, 10), locale=locale)
    assert format_day(day, locale) == expected


def test_chinese_and_german_dates_read_natively() -> None:
    """Spot checks of two skeleton renderings, written out."""
    assert format_day(date(2025, 11, 10), "zh") == "2025年11月10日周一"
    assert format_day(date(2025, 11, 10), "de") == "Mo., 10. Nov. 2025"


@pytest.mark.parametrize("locale", LOCALES)
def test_times_are_24_hour_in_the_moments_own_zone(locale: str) -> None:
    """02:00Z is 22:00 the evening before in New York, whatever the language."""
    moment = datetime(2025, 10, 30, 2, 0, tzinfo=UTC).astimezone(ZoneInfo("America/New_York"))
    assert format_time(moment, locale) == "22:00"


def test_unknown_locale_is_a_clear_error() -> None:
    """Calendar validation keeps unknown names out; a direct call still names the shipped ones."""
    with pytest.raises(ValueError, match="shipped: de, en"):
        phrases("xx")


# --- channel locale in the calendar --------------------------------------------------------------------------


def _load_issues(tmp_path: Path, text: str) -> list[CalendarIssue]:
    path = tmp_path / "calendar.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarError) as info:
        load_calendar(path, environ={})
    return info.value.issues


def test_a_region_tagged_locale_suggests_its_language(tmp_path: Path) -> None:
    """``zh-CN`` is not shipped as such; the error points at the line and suggests ``zh``."""
    found = _load_issues(tmp_path, "version: 1\nchannels:\n  desk:\n    type: console\n    locale: zh-CN\n")
    assert [(i.line, i.path) for i in found] == [(5, "channels.desk.locale")]
    assert "unknown locale 'zh-CN' (did you mean 'zh'?)" in found[0].message


def test_an_unknown_locale_lists_the_shipped_ones(tmp_path: Path) -> None:
    """Nothing close: every shipped locale is listed."""
    found = _load_issues(tmp_path, "version: 1\nchannels:\n  desk: {type: console, locale: klingon}\n")
    assert f"expected one of: {', '.join(sorted(LOCALES))}" in found[0].message


def test_a_shipped_locale_loads(tmp_path: Path) -> None:
    """A valid locale is carried on the channel."""
    path = tmp_path / "calendar.yaml"
    path.write_text("version: 1\nchannels:\n  desk: {type: console, locale: ja}\n", encoding="utf-8")
    calendar, _ = load_calendar(path, environ={})
    assert calendar.channels["desk"].locale == "ja"


def test_a_locale_that_is_not_text_is_an_error(tmp_path: Path) -> None:
    """``locale: 5`` is reported at its line like any other unknown locale."""
    found = _load_issues(tmp_path, "version: 1\nchannels:\n  desk: {type: console, locale: 5}\n")
    assert [(i.line, i.path) for i in found] == [(3, "channels.desk.locale")]
    assert "unknown locale 5" in found[0].message
