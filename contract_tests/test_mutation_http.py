"""make mutation-http's smoke test: the baseline and three mutants, through the tool's own code.

The whole catalogue runs in ``make mutation-http`` (some minutes); here one answer
mutant, one paging mutant and one tenancy mutant each run the read-only suite
once, through a fresh mutating proxy in front of a sandbox with history, bounded.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from contract_tests.history import build_history
from contract_tests.mutants import BY_NAME, MUTANTS
from contract_tests.mutating_proxy import QUERY_ORDER, QUERY_REFUND, Answer, Request
from tools import mutation_http

SMOKE = (
    "refund-status-off-enum",  # an answer breaks the schema's enum
    "query-order-total-off-by-one",  # paging arithmetic
    "other-merchants-order-readable",  # tenancy: the other token reads this merchant's orders
)
RUN_LIMIT = 120.0  # seconds per kakaclo contract run
MAX_EXAMPLES = 5  # schemathesis's share of each run; the account walk reads the whole account


def test_the_catalogue_names_each_mutant_once_and_gives_each_unobservable_one_a_reason() -> None:
    assert len(BY_NAME) == len(MUTANTS) >= 25
    unobservable = [m for m in MUTANTS if m.unobservable is not None]
    assert len(unobservable) <= mutation_http.MAX_UNOBSERVABLE
    assert all(len(m.unobservable or "") > 20 for m in unobservable)
    assert {m.operation for m in MUTANTS} >= {QUERY_ORDER, QUERY_REFUND, "Refund Order"}


def test_a_mutant_changes_only_the_answers_its_rule_is_about() -> None:
    mutant = BY_NAME["query-order-total-off-by-one"]
    body = (
        b'{"code":10000,"message":"ok","data":{"total":2,"pageNumber":1,"pageSize":10,"list":[]}}'
    )
    answer = Answer(200, (("content-type", "application/json"),), body)
    orders = Request("GET", "/openapi/openapi/v2/order/orders", (), ())
    refunds = Request("GET", "/openapi/openapi/v2/order/orders/refund/10001", (), ())
    assert mutant.answer(orders, answer).json()["data"]["total"] == 3
    assert mutant.answer(refunds, answer) == answer
    assert mutant.answer(orders, Answer(401, answer.headers, b"{}")).body == b"{}"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with history, made once for this module."""
    return build_history(tmp_path_factory.mktemp("history") / "history.db")


def test_the_unmutated_run_passes_and_three_mutants_are_killed_read_only(template: Path) -> None:
    lines: list[str] = []
    baselines, verdicts = mutation_http.measure(
        [BY_NAME[name] for name in SMOKE],
        template,
        timeout=RUN_LIMIT,
        max_examples=MAX_EXAMPLES,
        progress=lines.append,
    )
    report = "\n".join(lines)
    assert baselines["readOnly"]["exit"] == 0, report
    assert "refundMode" not in baselines  # no unobservable mutant among these
    assert {v.name: v.verdict for v in verdicts} == dict.fromkeys(SMOKE, "killed"), report
    assert all(v.changed for v in verdicts), report  # each one changed some exchange
    assert mutation_http.score(verdicts)["score"] == 1.0


def test_a_failing_baseline_stops_the_measurement(
    template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    measured: list[object] = []

    def violations(
        upstream: str, mutant: object, **options: object
    ) -> tuple[mutation_http.Run, None]:
        measured.append(mutant)
        return mutation_http.Run(mutation_http.EXIT_VIOLATIONS, 0.0, ["test_x: broken"]), None

    monkeypatch.setattr(mutation_http, "run_through_proxy", violations)
    with pytest.raises(mutation_http.BaselineFailed, match=r"read-only run exited 1: \['test_x"):
        mutation_http.measure(
            [BY_NAME[SMOKE[0]]], template, timeout=RUN_LIMIT, max_examples=1, progress=print
        )
    assert measured == [None]  # the baseline only: no mutant ran
