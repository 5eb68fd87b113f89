"""Japanese."""

from __future__ import annotations

from alertd.locales import Phrases

__all__ = ["PHRASES"]

PHRASES = Phrases(
    today="今日",
    tomorrow="明日",
    yesterday="昨日",
    now="今",
    in_days={"other": "{n}日後"},
    days_ago={"other": "{n}日前"},
    in_hours={"other": "{n}時間後"},
    in_minutes={"other": "{n}分後"},
    started_hours_ago={"other": "{n}時間前に開始"},
    started_minutes_ago={"other": "{n}分前に開始"},
    weeks={"other": "{n}週間"},
    days={"other": "{n}日"},
    hours={"other": "{n}時間"},
    minutes={"other": "{n}分"},
    seconds={"other": "{n}秒"},
    unit_join="",
    before="{duration}前",
    after="開始から{duration}後",
    at_start="開始時",
    all_day="終日",
    statuses={"tentative": "仮", "confirmed": "確定", "postponed": "延期", "cancelled": "中止"},
    status_line="ステータス：{status}",
    source_line="出典：{source}",
    reminder_title="{title} — {distance}",
    reminder_text="{title}：{distance}。",
    countdown_title="{day}のカウントダウン",
    countdown_line="• {title} — {distance}（{day}）",
    change_title="変更：{title}",
    change_text="{title}：{sentence}。",
    moved="{before}から{after}に変更",
    status_changed="ステータスが{before}から{after}に変更",
    renamed="旧名「{before}」",
    added="{when}の予定としてカレンダーに追加",
    removed="カレンダーから削除され、リマインダーは取り消されました",
    details_changed="詳細が変更されました",
    clause_join="、",
    test_title="alertd テスト通知",
    test_text="alertd からチャンネル「{channel}」へのテストです。これが読めれば配信は正常です。",
)
