"""Hypothesis profiles of the suite (and of the project's own tests).

Registered under our own names and loaded explicitly: hypothesis loads a
built-in ``ci`` profile by itself when ``CI`` is set, so we neither rely on
nor collide with it. ``KAKACLO_PROFILE`` picks one (default ``quick``).
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, Phase, settings

from kakaclo_contract.settings import PROFILE_ENV, PROFILES

_COMMON: dict[str, Any] = {
    "derandomize": True,  # seeded: the same cases on every run
    "database": None,  # nothing carried between runs or machines
    "deadline": None,  # no wall-clock assertions
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
}
settings.register_profile("quick", max_examples=25, stateful_step_count=10, **_COMMON)
settings.register_profile("thorough", max_examples=300, stateful_step_count=30, **_COMMON)
# make mutation only needs to know that a test fails, not the smallest example
settings.register_profile(
    "mutation",
    max_examples=25,
    stateful_step_count=10,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    **_COMMON,
)


def load() -> str:
    """Load the profile ``KAKACLO_PROFILE`` names and return its name."""
    name = os.environ.get(PROFILE_ENV, "quick").strip() or "quick"
    if name not in PROFILES:
        raise SystemExit(f"{PROFILE_ENV} must be one of {', '.join(PROFILES)}, not {name!r}")
    settings.load_profile(name)
    return name
