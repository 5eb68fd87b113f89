"""Metrics: the dispatcher's outcome hook feeds counters and histograms; calendar reloads feed their own pair."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alertd.delivery.metrics import Metrics
from alertd.storage.outbox import Claimed, Outcome

DUE = datetime(2025, 11, 9, 14, 0, tzinfo=UTC)


def claimed(kind: str = "reminder", channel: str = "desk-slack") -> Claimed:
    return Claimed(
        id="n1",
        kind=kind,
        event_id="truce-expiry",
        channel=channel,
        offset="1d",
        due_at=DUE,
        expires_at=None,
        attempts=1,
        payload=None,
    )


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_a_sent_notification_counts_its_outcome_duration_and_lateness() -> None:
    """A send is counted by kind/channel/state, timed per channel, and its lateness observed per kind."""
    metrics = Metrics(process=False)
    at = DUE + timedelta(seconds=30)
    metrics.observe(claimed(), Outcome(id="n1", state="sent", at=at, duration_ms=250.0))
    labels = {"kind": "reminder", "channel": "desk-slack", "state": "sent"}
    assert value(metrics, "alertd_notification_outcomes_total", **labels) == 1.0
    assert value(metrics, "alertd_send_duration_seconds_sum", channel="desk-slack") == 0.25
    assert value(metrics, "alertd_lateness_seconds_sum", kind="reminder") == 30.0
    assert value(metrics, "alertd_channel_failures_total", channel="desk-slack") is None


def test_a_failed_attempt_counts_as_a_channel_failure() -> None:
    """An attempt that will be retried counts one failure of its channel."""
    metrics = Metrics(process=False)
    metrics.observe(claimed(), Outcome(id="n1", state="retrying", at=DUE, duration_ms=10.0))
    assert value(metrics, "alertd_channel_failures_total", channel="desk-slack") == 1.0


def test_an_outcome_without_an_attempt_is_not_timed_or_a_failure() -> None:
    """A missed notification was never sent: no duration, no channel failure, but its outcome is counted."""
    metrics = Metrics(process=False)
    metrics.observe(claimed(), Outcome(id="n1", state="missed", at=DUE, attempted=False))
    labels = {"kind": "reminder", "channel": "desk-slack", "state": "missed"}
    assert value(metrics, "alertd_notification_outcomes_total", **labels) == 1.0
    assert value(metrics, "alertd_send_duration_seconds_count", channel="desk-slack") is None
    assert value(metrics, "alertd_channel_failures_total", channel="desk-slack") is None


def test_calendar_reloads_set_the_gauge_and_count_rejections() -> None:
    """A rejected reload counts an error and sets last-ok to 0; a good one sets it back to 1."""
    metrics = Metrics(process=False)
    assert value(metrics, "alertd_calendar_last_reload_ok") == 1.0
    metrics.calendar_reloaded(ok=False)
    assert (
        value(metrics, "alertd_calendar_reload_errors_total"),
        value(metrics, "alertd_calendar_last_reload_ok"),
    ) == (
        1.0,
        0.0,
    )
    metrics.calendar_reloaded(ok=True)
    assert value(metrics, "alertd_calendar_last_reload_ok") == 1.0


def test_openmetrics_is_served_when_asked_for() -> None:
    """A scraper asking for OpenMetrics gets it; anyone else gets the Prometheus text format."""
    metrics = Metrics(process=False)
    _, openmetrics = metrics.render("application/openmetrics-text; version=1.0.0")
    _, text = metrics.render(None)
    assert openmetrics.startswith("application/openmetrics-text")
    assert text.startswith("text/plain")
