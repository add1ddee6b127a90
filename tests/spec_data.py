"""Shared test helpers: the loaded spec, the vendor's bodies and strategies drawn from the spec."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from kakaclo_contract.drawing import component_values
from kakaclo_spec import Spec

__all__ = ["component_values", "spec", "vendor_body"]

ROOT = Path(__file__).resolve().parent.parent
VENDOR_FIXTURES = ROOT / "tests" / "fixtures" / "vendor"


@cache
def spec() -> Spec:
    """openapi.yaml, loaded once per test session."""
    return Spec.load(ROOT / "openapi.yaml")


def vendor_body(name: str) -> Any:
    """A real response body of the vendor (tests/fixtures/vendor/NAME)."""
    return json.loads((VENDOR_FIXTURES / name).read_text(encoding="utf-8"))
