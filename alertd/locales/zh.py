"""Chinese (Simplified)."""

from __future__ import annotations

from alertd.locales import Phrases

__all__ = ["PHRASES"]

PHRASES = Phrases(
    today="今天",
    tomorrow="明天",
    yesterday="昨天",
    now="现在",
    in_days={"other": "{n}天后"},
    days_ago={"other": "{n}天前"},
    in_hours={"other": "{n}小时后"},
    in_minutes={"other": "{n}分钟后"},
    started_hours_ago={"other": "已开始{n}小时"},
    started_minutes_ago={"other": "已开始{n}分钟"},
    weeks={"other": "{n}周"},
    days={"other": "{n}天"},
    hours={"other": "{n}小时"},
    minutes={"other": "{n}分钟"},
    seconds={"other": "{n}秒"},
    unit_join="",
    before="提前{duration}",
    after="开始后{duration}",
    at_start="开始时",
    all_day="全天",
    statuses={"tentative": "待定", "confirmed": "已确认", "postponed": "已推迟", "cancelled": "已取消"},
    status_line="状态：{status}",
    source_line="来源：{source}",
    reminder_title="{title} — {distance}",
    reminder_text="{title}：{distance}。",
    countdown_title="{day}倒计时",
    countdown_line="• {title} — {distance}（{day}）",
    change_title="变更：{title}",
    change_text="{title}：{sentence}。",
    moved="从{before}改到{after}",
    status_changed="状态由{before}改为{after}",
    renamed="原名“{before}”",
    added="已加入日历，时间为{when}",
    removed="已从日历中删除，相关提醒已取消",
    details_changed="详情有变",
    clause_join="；",
    test_title="alertd 测试通知",
    test_text="这是 alertd 发往频道“{channel}”的测试消息。能看到它，说明投递正常。",
)
