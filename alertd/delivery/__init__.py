"""Delivery: claim what is due, render it, send it through its channel, record the outcome.

The dispatcher and its per-channel workers (``dispatcher``), early wake-ups across replicas (``wakeup``), the one
retry policy (``retry``), pacing per channel (``ratelimit``), quiet hours (``quiet``), channel health marks
(``health``), test messages kept in history (``testsend``), notices about alertd itself for the admin channel
(``admin``) and the daemon's Prometheus metrics (``metrics``).

May import: every layer below it: alertd's shared modules, :mod:`alertd.messages`, :mod:`alertd.channels`,
:mod:`alertd.calendar`, :mod:`alertd.planning` and :mod:`alertd.storage`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alertd.delivery.admin import calendar_rejected, channel_recovered
    from alertd.delivery.dispatcher import Dispatcher, DispatchSettings
    from alertd.delivery.health import ChannelHealth, clear_failing, failing_channels, prune_failing, waiting
    from alertd.delivery.links import AckLinks, LinkClaim, LinkError
    from alertd.delivery.metrics import Metrics
    from alertd.delivery.quiet import quiet_until
    from alertd.delivery.ratelimit import channel_limit
    from alertd.delivery.retry import RetryPolicy
    from alertd.delivery.testsend import last_test_at, record_test
    from alertd.delivery.wakeup import DueListener
else:
    from alertd._exports import exports

    __getattr__ = exports(
        __name__,
        dispatcher=("DispatchSettings", "Dispatcher"),
        wakeup=("DueListener",),
        retry=("RetryPolicy",),
        health=("ChannelHealth", "clear_failing", "failing_channels", "prune_failing", "waiting"),
        admin=("calendar_rejected", "channel_recovered"),
        metrics=("Metrics",),
        ratelimit=("channel_limit",),
        quiet=("quiet_until",),
        links=("AckLinks", "LinkClaim", "LinkError"),
        testsend=("last_test_at", "record_test"),
    )

__all__ = [
    "AckLinks",
    "ChannelHealth",
    "DispatchSettings",
    "Dispatcher",
    "DueListener",
    "LinkClaim",
    "LinkError",
    "Metrics",
    "RetryPolicy",
    "calendar_rejected",
    "channel_limit",
    "channel_recovered",
    "clear_failing",
    "failing_channels",
    "last_test_at",
    "prune_failing",
    "quiet_until",
    "record_test",
    "waiting",
]
