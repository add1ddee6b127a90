"""make api-diff's text output: a changed description is a diff of its lines under one
short subject, never the whole text twice on one escaped line."""

from __future__ import annotations

from tools import api_diff

BEFORE = "A page of orders.\nThe real service adds keys; they are kept.\n"
AFTER = (
    "A page of orders.\nThe real service adds `vo` and `nextId`; they are kept.\n\n**Paging.**\n"
)


def test_a_changed_description_is_named_in_a_few_words() -> None:
    path = ["components", "schemas", "OrderPage", "description"]
    assert api_diff._subject(path, "replace", BEFORE, AFTER) == "OrderPage.description changed"
    short = api_diff._subject(["components", "schemas", "X", "maximum"], "replace", 250, 100)
    assert short == "X.maximum: 250 -> 100"  # a value is still quoted on the line


def test_its_lines_are_shown_as_removed_and_added() -> None:
    assert api_diff.changed_lines(BEFORE, AFTER) == (
        "- The real service adds keys; they are kept.",
        "+ The real service adds `vo` and `nextId`; they are kept.",
        "+",
        "+ **Paging.**",
    )


def test_the_text_output_shows_a_few_lines_and_counts_the_rest() -> None:
    many = tuple(f"+ line {n}" for n in range(12))
    change = api_diff.Change("spec", "Order.description changed", "annotation", "", many)
    text = api_diff.as_text([change], [])
    assert "\\n" not in text and "->" not in text
    shown = text.splitlines()
    assert "  annotation   spec   Order.description changed" in shown
    assert "      + line 7" in shown and "      + line 8" not in shown
    assert "      ... 4 more changed lines (--json lists them all)" in shown
