"""The fuzz tests' hypothesis settings: a small seeded slice, or many more under make fuzz.

``make test`` runs each property on a deterministic slice (``derandomize``, a few
dozen examples). ``make fuzz`` sets ``KAKACLO_FUZZ=1`` (``tools/fuzz.py``): each
property then runs ``KAKACLO_FUZZ_SCALE`` times as many examples (default 20),
drawn afresh each run; a failure prints the blob that reproduces it.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

FUZZ_ENV = "KAKACLO_FUZZ"
SCALE_ENV = "KAKACLO_FUZZ_SCALE"
DEFAULT_SCALE = 20
_QUIET = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]

settings.register_profile(
    "kakaclo-fuzz-slice",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=_QUIET,
)
settings.register_profile(
    "kakaclo-fuzz",
    derandomize=False,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=_QUIET,
)


def deep() -> bool:
    """Whether this run is make fuzz's (``KAKACLO_FUZZ=1``)."""
    return os.environ.get(FUZZ_ENV, "") == "1"


def fuzz(examples: int) -> settings:
    """Settings for a property: ``examples`` in make test, scaled up under make fuzz."""
    if deep():
        scale = int(os.environ.get(SCALE_ENV, "") or DEFAULT_SCALE)
        return settings(settings.get_profile("kakaclo-fuzz"), max_examples=examples * scale)
    return settings(settings.get_profile("kakaclo-fuzz-slice"), max_examples=examples)
