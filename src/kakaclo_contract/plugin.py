"""The suite's pytest plugin: header, preflight, summary, verdict and the JSON report.

Always loaded with the suite. With ``--kakaclo-contract`` (what ``kakaclo
contract`` passes) the session is a contract run: it prints the run's header
first, stops on a failed preflight (exit 2), and ends with the verdict of
:mod:`kakaclo_contract.verdict` as its exit status and in the JSON summary.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from _pytest.nodeid import coerce_node_id
from hypothesis import settings as hypothesis_settings
from kakaclo_client import spec_facts

from kakaclo_contract import profiles, spec_coverage, summary
from kakaclo_contract.settings import DEFAULT_SUMMARY, MIN_READ_ANSWERS
from kakaclo_contract.spec_check import SETTLED
from kakaclo_contract.target import Target, settings, url_target
from kakaclo_contract.traffic import Traffic
from kakaclo_contract.verdict import Verdict, decide
from kakaclo_refunds.cli_output import terminal_safe

SETTLEMENT_POLL = 10.0  # seconds between Query Refund polls while waiting for settlement

profiles.load()


def pytest_addoption(parser: pytest.Parser) -> None:
    """The options ``kakaclo contract`` passes."""
    group = parser.getgroup("kakaclo", "kakaclo contract run")
    group.addoption(
        "--kakaclo-contract",
        action="store_true",
        help="this session is a contract run: header, preflight, verdict as exit status",
    )
    group.addoption(
        "--kakaclo-summary",
        default=str(DEFAULT_SUMMARY),
        help="where the JSON summary goes (default: %(default)s)",
    )


def _is_run(config: pytest.Config) -> bool:
    return bool(config.getoption("kakaclo_contract"))


def _is_worker(config: pytest.Config) -> bool:
    """True in a worker process of a parallel run (pytest-xdist)."""
    return hasattr(config, "workerinput")


def _target() -> Target | None:
    return url_target() if settings().over_http else None


def pytest_configure(config: pytest.Config) -> None:
    """A contract run: the case budget applies to hypothesis too."""
    if not _is_run(config):
        return
    run = settings()
    # The case budget applies to the suite's own hypothesis tests too.
    hypothesis_settings.register_profile(
        "kakaclo-run",
        parent=hypothesis_settings.get_profile(run.profile),
        max_examples=run.examples,
    )
    hypothesis_settings.load_profile("kakaclo-run")
    _load_the_projects_modules()


# hypothesis mixes literals of the "local" modules loaded in the process into the data it
# draws (about one draw in twenty), so the cases depend on which modules were imported
# when. Loading every module of the project first gives every process of a run (one, or
# each pytest-xdist worker) the same literals, hence the same cases.
PROJECT_PACKAGES = (
    "kakaclo_client",
    "kakaclo_spec",
    "kakaclo_sandbox",
    "kakaclo_refunds",
    "kakaclo_contract",
    "kakaclo_proxy",
)


# Modules of an extra the suite's install may lack (the sandbox on PostgreSQL needs
# psycopg): never loaded here, so every install draws the same cases.
OPTIONAL_MODULES = ("kakaclo_sandbox.storage.postgres.",)


def _load_the_projects_modules() -> None:
    for name in PROJECT_PACKAGES:
        package = importlib.import_module(name)
        for module in pkgutil.walk_packages(package.__path__, f"{name}."):
            if (
                ".suite" not in module.name
                and module.name != "kakaclo_sandbox.__main__"
                and not module.name.startswith(OPTIONAL_MODULES)
            ):
                importlib.import_module(module.name)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give each operation's schemathesis item an id of its own.

    schemathesis 4.32 names them ``test[GET /path]`` but leaves all of them
    the function's node id, so pytest-xdist (which schedules by node id) would
    run one of them, and JUnit would list three tests under one name.
    """
    for item in items:
        own = f"{item.parent.nodeid}::{item.name}" if item.parent else item.nodeid
        if item.nodeid != own and item.name.startswith(item.nodeid.rpartition("::")[2] + "["):
            item._id = coerce_node_id(own)  # pytest 9 keeps the node id here


def _is_check_failure(error: BaseException) -> bool:
    """An assertion (a check that failed), or a group of them (schemathesis, hypothesis)."""
    if isinstance(error, AssertionError):
        return True
    if isinstance(error, BaseExceptionGroup):
        return all(_is_check_failure(inner) for inner in error.exceptions)
    return False


def one_line(where: str, error: BaseException) -> str:
    """An unexpected exception of a suite test as one line naming the test and the request."""
    message = " ".join(str(error).split())[:300] or "(no message)"
    request = getattr(error, "request", None)
    if isinstance(request, httpx.Request):
        during = f"{request.method} {request.url}"
    else:
        during = spec_coverage.LAST_ANSWER[0] if spec_coverage.LAST_ANSWER else "no answer yet"
    return f"{where}: unexpected {type(error).__name__}: {message} (last request: {during})"


def _made_safe(value: Any) -> Any:
    """``value`` with every string in it terminal-safe: a failure's report (pytest's
    ``TerminalRepr`` dataclasses, lists, tuples) carries the server's values, and a
    terminal must show their controls, not obey them. The same object, changed in place."""
    if isinstance(value, str):
        return terminal_safe(value)
    if isinstance(value, list):
        value[:] = [_made_safe(item) for item in value]
        return value
    if isinstance(value, tuple):
        return tuple(_made_safe(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for each in dataclasses.fields(value):
            setattr(value, each.name, _made_safe(getattr(value, each.name)))
    return value


def _printed_safe(report: pytest.TestReport | pytest.CollectReport) -> None:
    """A failed report's text (its traceback or line, and captured output) terminal-safe."""
    if report.failed:
        report.longrepr = _made_safe(report.longrepr)
        report.sections = [_made_safe(section) for section in report.sections]


def _unexpected(config: pytest.Config, excinfo: Any) -> BaseException | None:
    if not _is_run(config) or excinfo is None:
        return None
    error = excinfo.value
    skipped = (pytest.skip.Exception, pytest.exit.Exception, KeyboardInterrupt)
    if isinstance(error, skipped) or _is_check_failure(error):
        return None
    return error  # type: ignore[no-any-return]


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Each test names only its own requests."""
    spec_coverage.LAST_ANSWER.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """In a contract run, an unexpected exception is a failed check of one line, never a
    traceback: the test's name, the exception and the last request."""
    outcome = yield
    report = outcome.get_result()
    error = _unexpected(item.config, call.excinfo)
    if error is not None and report.failed:
        report.longrepr = one_line(item.nodeid, error)
    if _is_run(item.config):
        _printed_safe(report)


@pytest.hookimpl(trylast=True)
def pytest_exception_interact(
    node: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport
) -> None:
    """schemathesis's failed checks as their message (checks, answer, curl), not its frames
    (after schemathesis's own hook, which puts the frames back)."""
    found = call.excinfo.value if call.excinfo is not None else None
    if _is_run(node.config) and isinstance(found, BaseExceptionGroup) and _is_check_failure(found):
        report.longrepr = f"{node.nodeid}: {found.message}"
    if _is_run(node.config):
        _printed_safe(report)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Any:
    """The same for a suite module that fails while it is loaded (it reads its target then);
    the report keeps only the exception's text, so the line is made from that."""
    outcome = yield
    report = outcome.get_result()
    crash = getattr(report.longrepr, "reprcrash", None)
    if _is_run(collector.config) and report.failed and crash is not None:
        message = " ".join(str(crash.message).split())[:300]
        if not message.startswith("AssertionError"):
            during = spec_coverage.LAST_ANSWER[0] if spec_coverage.LAST_ANSWER else "none"
            report.longrepr = f"{collector.nodeid}: unexpected {message} (last request: {during})"
    if _is_run(collector.config):
        _printed_safe(report)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Print the run's header, then run the preflight."""
    config = session.config
    if not _is_run(config) or _is_worker(config):
        return
    run = settings()
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    write = reporter.write_line if reporter else print
    write(f"kakaclo contract: target {run.base_url or 'the in-process sandbox'}")
    write(
        f"kakaclo contract: profile {run.profile}, {run.examples} examples per operation and "
        f"phase, phases {','.join(run.phases)}, seed {run.seed}, rate {run.rate or 'unpaced'}, "
        f"timeout {run.timeout:g} s" + (f", workers {run.workers}" if run.parallel else "")
    )
    target = _target()  # the preflight: stops the run with one line on a problem
    write(f"kakaclo contract: mode {target.mode if target else 'in-process sandbox'}")


def _wait_for_settlement(target: Target) -> dict[str, str]:
    """Poll Query Refund until the run's refunds settle or the wait is over."""
    deadline = time.monotonic() + target.settings.wait_settlement
    numbers = {refund.refund_no: refund.order_id for refund in target.traffic.refunds}
    statuses: dict[str, str] = {}
    auth = {"Authorization": f"Bearer {target.token}"}
    with target.http() as http:
        while True:
            for order_id in sorted(set(numbers.values())):
                answer = http.get(
                    target.path(spec_facts.QUERY_REFUND.path.format(id=order_id)),
                    params={"pageSize": spec_facts.PAGE_SIZE_MAXIMUM},
                    headers=auth,
                )
                if answer.status_code == 200:
                    for entry in answer.json().get("data", {}).get("list", []):
                        if entry.get("refundNo") in numbers:
                            statuses[entry["refundNo"]] = str(entry.get("refundStatus"))
            pending = [n for n in numbers if statuses.get(n) not in SETTLED]
            if not pending or time.monotonic() + SETTLEMENT_POLL > deadline:
                return statuses
            time.sleep(SETTLEMENT_POLL)  # the vendor settles in minutes to hours


def _report(run_verdict: Verdict, target: Target | None, statuses: dict[str, str]) -> Any:
    run = settings()
    traffic = target.traffic if target else Traffic()
    checked, throttled = summary.checked_answers()
    return {
        "outcome": run_verdict.outcome,
        "exitCode": run_verdict.code,
        "reasons": run_verdict.reasons,
        "target": run.base_url or "in-process sandbox",
        "mode": target.mode if target else "in-process sandbox",
        "profile": run.profile,
        "examplesPerOperation": run.examples,
        "seed": run.seed,
        "phases": list(run.phases),
        "rate": str(run.rate) if run.rate else None,
        "minimumAnswersPerReadOperation": MIN_READ_ANSWERS,
        "checkedAnswers": {"total": checked, "throttled": throttled},
        "specCoverage": spec_coverage.as_json(),
        "traffic": {
            "answers": traffic.total,
            "throttled": sum(traffic.throttled.values()),
            "throttledShare": round(traffic.throttled_share, 4),
            "maxThrottledShare": run.max_429_share,
            "throttledByOperation": dict(sorted(traffic.throttled.items())),
        },
        # On a real service the user must be able to find each refund in its console.
        "refundsToFind": bool(target and target.guarded),
        "refundsCreated": [
            {"orderId": r.order_id, "refundNo": r.refund_no, "status": statuses.get(r.refund_no)}
            for r in traffic.refunds
        ],
        "operations": summary.as_json(),
    }


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Wait for settlement if asked, decide the verdict, write the JSON summary."""
    config = session.config
    if not _is_run(config):
        return
    if _is_worker(config):
        # A worker's counts go home to the controller, which decides for the whole run.
        config.workeroutput[_COUNTS] = {  # type: ignore[attr-defined]
            "summary": summary.snapshot(),
            "coverage": spec_coverage.snapshot(),
        }
        return
    target = _target()
    statuses: dict[str, str] = {}
    if target and target.traffic.refunds and target.settings.wait_settlement > 0:
        statuses = _wait_for_settlement(target)
    run_verdict = decide(int(exitstatus), settings(), sandbox=target is None or target.is_sandbox)
    session.exitstatus = run_verdict.code
    config.stash[_VERDICT] = _report(run_verdict, target, statuses)
    summary.write(Path(config.getoption("kakaclo_summary")), config.stash[_VERDICT])


_VERDICT = pytest.StashKey[Any]()
_COUNTS = "kakaclo-counts"


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """A worker of a parallel run finished: add its counts to the run's (pytest-xdist hook).

    The per-run gates (429 share, answers per read operation, spec coverage) then
    see the whole run, as in one process.
    """
    counts = getattr(node, "workeroutput", {}).get(_COUNTS)
    if counts is not None:
        summary.merge(counts["summary"])
        spec_coverage.merge(counts["coverage"])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The per-operation table, then (in a contract run) the traffic, refunds and verdict."""
    table = summary.lines() + spec_coverage.lines()
    if table:
        terminalreporter.section("kakaclo contract summary")
        for line in table:
            terminalreporter.write_line(line)
    report = terminalreporter.config.stash.get(_VERDICT, None)
    if report is None:
        return
    traffic, checked = report["traffic"], report["checkedAnswers"]
    share = checked["throttled"] / checked["total"] if checked["total"] else 0.0
    network = (
        f"; over the network in all: {traffic['answers']} answers, "
        f"{traffic['throttled']} of them 429"
        if traffic["answers"]
        else ""
    )
    terminalreporter.write_line(
        f"checked answers: {checked['total']}, {checked['throttled']} of them 429 ({share:.0%}; "
        f"at most {traffic['maxThrottledShare']:.0%}){network}"
    )
    for refund in report["refundsCreated"] if report["refundsToFind"] else ():
        status = refund["status"] or "not waited for"
        terminalreporter.write_line(
            f"refund created: order {refund['orderId']}, refund {refund['refundNo']} ({status})"
        )
    terminalreporter.write_line(
        f"summary saved to {terminalreporter.config.getoption('kakaclo_summary')}"
    )
    verdict_line = f"kakaclo contract: {report['outcome']} (exit {report['exitCode']})"
    markup = {"green": True} if report["exitCode"] == 0 else {"red": True}
    terminalreporter.write_line(verdict_line, bold=True, **markup)
    for reason in report["reasons"]:
        terminalreporter.write_line(f"  {reason}", **markup)
