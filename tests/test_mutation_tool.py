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


def test_an_entry_naming_a_detected_mutant_is_stale_and_the_mutant_counts() -> None:
    # A changed function renumbers its mutants: the entry may now name another one.
    found = {"f__mutmut_1": "killed", "f__mutmut_2": "survived"}
    result = mutation.score(found, {"f__mutmut_1": "was equivalent before the change"})
    assert result["staleEquivalents"] == ["f__mutmut_1"]
    assert result["equivalent"] == 0
    assert (result["considered"], result["detected"]) == (2, 1)


def test_the_equivalent_list_gives_a_reason_for_each_mutant() -> None:
    for name, why in mutation.equivalents().items():
        assert name.startswith("kakaclo_sandbox.") and len(why) > 20, (name, why)


def _case_only(original: str, mutant: str) -> bool:
    import ast

    names = {"orders", "status", "refund_no"}
    return mutation.case_only(ast.parse(original), ast.parse(mutant), names)


def test_sql_and_column_keys_in_other_case_are_equivalent_by_rule() -> None:
    assert _case_only(
        'db.execute("SELECT 1 FROM orders WHERE id = ?")',
        'db.execute("select 1 FROM orders WHERE id = ?")',
    )
    assert _case_only('x = row["refund_no"]', 'x = row["REFUND_NO"]')
    assert _case_only('c = " AND ".join(w)', 'c = " and ".join(w)')


def test_other_case_changes_are_left_to_review() -> None:
    # a quoted literal's case matters, and so do messages, statuses and anything else changed
    assert not _case_only("q = \"WHERE status = 'cancel'\"", "q = \"WHERE STATUS = 'CANCEL'\"")
    assert not _case_only(
        'raise E("used with another order or body")', 'raise E("USED WITH ANOTHER ORDER OR BODY")'
    )
    assert not _case_only('return "refunded"', 'return "REFUNDED"')
    assert not _case_only('x = row["status"]; y = 1', 'x = row["STATUS"]; y = 2')
    assert not _case_only(
        'db.execute("SELECT 1 FROM orders")', 'db.execute("SELECT 2 FROM orders")'
    )
