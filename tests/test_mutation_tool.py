"""tools/mutation.py: how the score is counted from mutmut's results."""

from __future__ import annotations

from tools import mutation


def test_equivalents_are_left_out_and_timeouts_count_as_detected() -> None:
    found = {"a": "killed", "b": "survived", "c": "timeout", "d": "survived", "e": "no tests"}
    result = mutation.score(found, {"b": "same SQL in another case", "gone": "renamed"})
    assert result["considered"] == 4  # a, c, d, e
    assert result["detected"] == 2  # a killed, c timed out
    assert result["score"] == 0.5
    assert result["survivors"] == ["d", "e"]  # a mutant no test reaches is not detected
    assert result["staleEquivalents"] == ["gone"]


def test_the_equivalent_list_gives_a_reason_for_each_mutant() -> None:
    for name, why in mutation.equivalents().items():
        assert name.startswith("kakaclo_sandbox.") and len(why) > 20, (name, why)
