"""Hypothesis profiles shared by tests/ and contract_tests/.

Registered under our own names and loaded explicitly: hypothesis loads a
built-in ``ci`` profile by itself when ``CI`` is set, so we neither rely on
nor collide with it. ``KAKACLO_PROFILE`` picks one (default ``quick``).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE_ENV = "KAKACLO_PROFILE"

_COMMON = {
    "derandomize": True,  # seeded: the same cases on every run
    "database": None,  # nothing carried between runs or machines
    "deadline": None,  # no wall-clock assertions
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
}
settings.register_profile("quick", max_examples=25, stateful_step_count=10, **_COMMON)
settings.register_profile("thorough", max_examples=300, stateful_step_count=30, **_COMMON)

_profile = os.environ.get(PROFILE_ENV, "quick")
if _profile not in {"quick", "thorough"}:
    raise SystemExit(f"{PROFILE_ENV} must be 'quick' or 'thorough', not {_profile!r}")
settings.load_profile(_profile)
