"""The suite can fail: run it against sandboxes with planted defects and see each caught.

Each defect is planted from outside an in-process sandbox
(:mod:`contract_tests.planted`: other ``rules=``, or an ASGI wrapper); the part
of the suite expected to catch it runs in a subprocess and must fail, naming the
check. (The control run, the same modules with nothing planted, is the rest of
this suite, which must pass.)
"""

from __future__ import annotations

import os

import pytest

from contract_tests.planted import APP, FAULT_ENV, Fault
from contract_tests.subrun import run_suite
from kakaclo_contract.settings import APP_ENV, BASE_URL_ENV

# defect -> (the suite module that must catch it, words naming the check that did)
CAUGHT_BY: dict[Fault, tuple[str, str]] = {
    Fault.ACCEPT_MISSING_TOKEN: (
        "test_schemathesis.py",
        "Unexpected response to a request without authentication",  # ignored_auth
    ),
    Fault.OMIT_REFUND_STATUS: ("test_schemathesis.py", "Response violates schema"),
    Fault.TEXT_PLAIN: ("test_schemathesis.py", "Undocumented Content-Type"),
    Fault.ACCEPT_INVALID_BODY: ("test_schemathesis.py", "Schema-violating request accepted"),
    Fault.REFUND_SHIPPED_ORDERS: (
        "test_rules.py",
        "test_orders_that_may_not_be_refunded_are_refused_unchanged",
    ),
    Fault.OVER_REFUND: ("test_business_properties.py", "refund_some_pieces"),
}


def test_every_planted_defect_has_a_catcher() -> None:
    assert set(CAUGHT_BY) == set(Fault)


@pytest.mark.parametrize("fault", sorted(CAUGHT_BY), ids=str)
def test_planted_defect_is_caught(fault: Fault) -> None:
    if os.environ.get(BASE_URL_ENV):
        pytest.skip("plants defects in the in-process sandbox; not run against a URL")
    module, words = CAUGHT_BY[fault]
    output = run_suite(
        [f"src/kakaclo_contract/suite/{module}"],
        {APP_ENV: APP, FAULT_ENV: fault.value},
        stop_at_first=True,
    )
    assert output.startswith("exit 1"), f"the suite did not fail against {fault}:\n{output[-3000:]}"
    assert words in output, f"{fault} was not caught by the expected check:\n{output[-3000:]}"
