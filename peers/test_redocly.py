"""Redocly CLI lints openapi.yaml with its recommended rules: no error, no warning.

A rule is turned off only in ``redocly.yaml``, with its reason there.
"""

from __future__ import annotations

from peers.conftest import ROOT, SPEC, npm_tool, run


def test_the_recommended_rules_find_nothing() -> None:
    redocly = npm_tool("@redocly/cli")
    ran = run(
        [redocly, "lint", str(SPEC), "--config", str(ROOT / "redocly.yaml"), "--format=stylish"]
    )
    assert ran.code == 0, ran.output
    assert "Your API description is valid" in ran.output, ran.output
    assert "warning" not in ran.output.split("validating", 1)[-1].lower().replace(
        "deprecation warning", ""
    ), ran.output
