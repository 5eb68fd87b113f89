"""Hypothesis settings for the property suites: small and deterministic-enough for CI, no per-example deadline.

Applied per test (``@PROPERTY``) rather than as a global profile, so other hypothesis users in the suite (the
OpenAPI fuzzing) keep their own settings. ``CI=true`` runs 1,000 examples per property and derandomizes, so a CI
failure reproduces locally with the same seed (``CI=true pytest tests/properties``); a local run takes 150 unless
``ALERTD_HYPOTHESIS_EXAMPLES`` says otherwise.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

__all__ = ["PROPERTY"]

_CI = os.environ.get("CI") == "true"
_EXAMPLES = int(os.environ.get("ALERTD_HYPOTHESIS_EXAMPLES", "1000" if _CI else "150"))

settings.register_profile(
    "alertd-properties",
    max_examples=_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile(
    "alertd-properties-ci",
    parent=settings.get_profile("alertd-properties"),
    derandomize=True,
    print_blob=True,
)

PROPERTY = settings(settings.get_profile("alertd-properties-ci" if _CI else "alertd-properties"))
