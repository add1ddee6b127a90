"""make mutation-http: the read-only contract suite's mutation score over HTTP mutants.

Starts a sandbox with history (``contract_tests/history.py``: settled, failed and
pending refunds) without its control surface, then for each mutant of
``contract_tests/mutants.py`` a fresh mutating proxy in front of it
(``contract_tests/mutating_proxy.py``), and runs ``kakaclo contract`` read-only
through the proxy, as a subprocess bounded by ``--timeout``. Exit 1 (violations)
kills the mutant; exit 0 lets it survive; exit 2 (could not run) or a timeout is
neither, and is reported on its own.

The unmutated proxy runs first and must pass, or nothing is measured. A mutant
the catalogue classes unobservable read-only (at most 3, each with its reason)
is also run in refund mode (``--allow-refunds --order-id 10007 --order-id 10008
--max-refunds 2``, on a fresh sandbox with history each time) and must fail there.

Score = mutants killed read-only / all mutants run; the goal is 95%. Writes
``reports/mutation-http.json`` and prints one line per mutant as it goes, then
the table. ``--only NAME,NAME`` runs a subset, ``--list`` lists the catalogue.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract_tests.history import (
    OTHER_TOKEN,
    REFUND_MODE_ORDERS,
    TOKEN,
    HistorySandbox,
    build_history,
)
from contract_tests.mutants import BY_NAME, MUTANTS
from contract_tests.mutating_proxy import Mutant, MutatingProxy, ProxyServer

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "reports" / "mutation-http.json"
GOAL = 0.95
MAX_UNOBSERVABLE = 3
EXIT_PASSED, EXIT_VIOLATIONS, EXIT_CANNOT_RUN = 0, 1, 2
TIMED_OUT = -1  # the exit code a run is given when it hit --timeout
KILLED, SURVIVED, NOT_RUN = "killed", "survived", "could not run"
REFUND_MODE_ARGS = [
    "--allow-refunds",
    *(arg for order in REFUND_MODE_ORDERS for arg in ("--order-id", order)),
    "--max-refunds",
    str(len(REFUND_MODE_ORDERS)),
]
FIRST_FAILURES = 3


@dataclass
class Run:
    """One ``kakaclo contract`` run: its exit code (-1: timed out), time and first failures."""

    exit_code: int
    seconds: float
    failures: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        """killed (exit 1), survived (exit 0) or could not run (exit 2, a timeout, other)."""
        if self.exit_code == EXIT_VIOLATIONS:
            return KILLED
        if self.exit_code == EXIT_PASSED:
            return SURVIVED
        return NOT_RUN

    def as_json(self) -> dict[str, Any]:
        """The report's form of a baseline run."""
        return {
            "exit": self.exit_code,
            "seconds": round(self.seconds, 1),
            "failures": self.failures,
        }


@dataclass
class Verdict:
    """What became of one mutant."""

    name: str
    operation: str
    rule: str
    read_only: Run
    changed: int | None  # exchanges the mutant changed in the read-only run (None: unknown)
    unobservable: str | None = None
    refund_mode: Run | None = None

    @property
    def verdict(self) -> str:
        """killed, survived or could not run (read-only; refund mode for an unobservable one)."""
        if self.unobservable is not None:
            if self.refund_mode is None:
                return f"unobservable, refund mode {NOT_RUN}"
            return f"unobservable, {self.refund_mode.outcome} in refund mode"
        return self.read_only.outcome

    def as_json(self) -> dict[str, Any]:
        """The report's entry."""
        entry: dict[str, Any] = {
            "name": self.name,
            "operation": self.operation,
            "rule": self.rule,
            "verdict": self.verdict,
            "readOnlyExit": self.read_only.exit_code,
            "readOnlySeconds": round(self.read_only.seconds, 1),
            "failures": self.read_only.failures,
            "exchangesChanged": self.changed,
        }
        if self.unobservable is not None:
            entry["unobservable"] = self.unobservable
        if self.refund_mode is not None:
            entry["refundModeExit"] = self.refund_mode.exit_code
            entry["refundModeFailures"] = self.refund_mode.failures
        return entry


class BaselineFailed(RuntimeError):
    """The unmutated proxy did not pass: no kill would mean anything."""


def _kakaclo() -> str:
    beside = Path(sys.executable).parent / "kakaclo"
    return str(beside) if beside.exists() else (shutil.which("kakaclo") or "kakaclo")


def _first_failures(junit: Path, summary: Path) -> list[str]:
    """The first failing tests of a run (``name: first line``), or why it could not run."""
    found: list[str] = []
    cases: list[ET.Element] = []
    if junit.exists():
        with contextlib.suppress(ET.ParseError):  # half written: the summary's reasons say more
            cases = list(ET.parse(junit).getroot().iter("testcase"))
    for case in cases:
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is None:
            continue
        message = (problem.get("message") or "").strip().splitlines()
        found.append(f"{case.get('name')}: {message[0][:160] if message else ''}".rstrip(": "))
        if len(found) == FIRST_FAILURES:
            return found
    if not found and summary.exists():
        reasons = json.loads(summary.read_text()).get("reasons") or []
        found = [str(reason)[:200] for reason in reasons[:FIRST_FAILURES]]
    return found


def run_contract(
    base_url: str, *, refund_mode: bool, timeout: float, max_examples: int | None
) -> Run:
    """``kakaclo contract`` against ``base_url``, read-only unless ``refund_mode``, bounded."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAKACLO_")}
    env |= {"KAKACLO_TOKEN": TOKEN, "KAKACLO_OTHER_TOKEN": OTHER_TOKEN}
    with tempfile.TemporaryDirectory(prefix="kakaclo-mutation-http-") as directory:
        summary, junit = Path(directory) / "summary.json", Path(directory) / "junit.xml"
        command = [
            _kakaclo(),
            "contract",
            "--base-url",
            base_url,
            "--summary",
            str(summary),
            "--junit-xml",
            str(junit),
            *(["--max-examples", str(max_examples)] if max_examples else []),
            *(REFUND_MODE_ARGS if refund_mode else []),
        ]
        started = time.monotonic()
        try:
            done = subprocess.run(
                command,
                cwd=directory,  # no schemathesis.toml of the checkout; reports stay in the temp dir
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Run(TIMED_OUT, time.monotonic() - started, [f"timed out after {timeout:g} s"])
        failures = _first_failures(junit, summary)
        if not failures and done.returncode not in (EXIT_PASSED, EXIT_VIOLATIONS):
            failures = (done.stderr or done.stdout).strip().splitlines()[-1:]
        return Run(done.returncode, time.monotonic() - started, failures)


def run_through_proxy(
    upstream: str,
    mutant: Mutant | None,
    *,
    refund_mode: bool = False,
    timeout: float,
    max_examples: int | None,
) -> tuple[Run, int | None]:
    """One run through a fresh proxy applying ``mutant``; the run and the exchanges it changed."""
    proxy = MutatingProxy(upstream, mutant)
    with ProxyServer(proxy) as server:
        run = run_contract(
            server.base_url, refund_mode=refund_mode, timeout=timeout, max_examples=max_examples
        )
    return run, proxy.changed


@contextlib.contextmanager
def history_template() -> Iterator[Path]:
    """A database with history, made once in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="kakaclo-history-template-") as directory:
        yield build_history(Path(directory) / "history.db")


def measure(
    mutants: Sequence[Mutant],
    template: Path,
    *,
    timeout: float,
    max_examples: int | None,
    progress: Callable[[str], None] = lambda line: print(line, flush=True),
) -> tuple[dict[str, Any], list[Verdict]]:
    """Run the baselines, then every mutant; return the baselines and the verdicts.

    Raises :class:`BaselineFailed` when an unmutated run does not pass.
    """
    baselines: dict[str, Any] = {}
    verdicts: list[Verdict] = []
    with HistorySandbox(template) as sandbox:
        run, _ = run_through_proxy(sandbox.root, None, timeout=timeout, max_examples=max_examples)
        baselines["readOnly"] = run.as_json()
        progress(f"baseline, read-only: exit {run.exit_code} in {run.seconds:.1f} s")
        if run.exit_code != EXIT_PASSED:
            raise BaselineFailed(
                f"the unmutated read-only run exited {run.exit_code}: {run.failures}"
            )
        if any(m.unobservable for m in mutants):
            with HistorySandbox(template) as fresh:
                run, _ = run_through_proxy(
                    fresh.root, None, refund_mode=True, timeout=timeout, max_examples=max_examples
                )
            baselines["refundMode"] = run.as_json()
            progress(f"baseline, refund mode: exit {run.exit_code} in {run.seconds:.1f} s")
            if run.exit_code != EXIT_PASSED:
                raise BaselineFailed(
                    f"the unmutated refund-mode run exited {run.exit_code}: {run.failures}"
                )
        width = max(len(m.name) for m in mutants)
        for number, mutant in enumerate(mutants, 1):
            run, changed = run_through_proxy(
                sandbox.root, mutant, timeout=timeout, max_examples=max_examples
            )
            verdict = Verdict(
                mutant.name, mutant.operation, mutant.rule, run, changed, mutant.unobservable
            )
            if mutant.unobservable is not None:
                with HistorySandbox(template) as fresh:
                    verdict.refund_mode, _ = run_through_proxy(
                        fresh.root,
                        mutant,
                        refund_mode=True,
                        timeout=timeout,
                        max_examples=max_examples,
                    )
            verdicts.append(verdict)
            first = run.failures[0] if run.failures else ""
            progress(
                f"[{number:2}/{len(mutants)}] {mutant.name:<{width}}  {verdict.verdict:<40} "
                f"exit {run.exit_code:>2}  {run.seconds:5.1f} s  changed {changed}  {first[:70]}"
            )
    return baselines, verdicts


def score(verdicts: Sequence[Verdict]) -> dict[str, Any]:
    """The score (killed read-only / all) and whether the run meets its goals."""
    killed = [v.name for v in verdicts if v.read_only.outcome == KILLED]
    unobservable = [v for v in verdicts if v.unobservable is not None]
    value = len(killed) / len(verdicts) if verdicts else 0.0
    unobservable_killed = all(
        v.refund_mode is not None and v.refund_mode.outcome == KILLED for v in unobservable
    )
    return {
        "score": round(value, 4),
        "goal": GOAL,
        "mutants": len(verdicts),
        "killedReadOnly": len(killed),
        "unobservable": len(unobservable),
        "unobservableKilledInRefundMode": unobservable_killed,
        "survivors": [
            v.name for v in verdicts if v.unobservable is None and v.read_only.outcome == SURVIVED
        ],
        "couldNotRun": [
            v.name for v in verdicts if v.unobservable is None and v.read_only.outcome == NOT_RUN
        ],
        "passed": value >= GOAL and len(unobservable) <= MAX_UNOBSERVABLE and unobservable_killed,
    }


def table(verdicts: Sequence[Verdict]) -> str:
    """The verdicts as a text table."""
    rows = [("mutant", "operation", "verdict", "rule")]
    rows += [(v.name, v.operation, v.verdict, v.rule) for v in verdicts]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(
        f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:<{widths[2]}}  {d}" for a, b, c, d in rows
    )


def select(only: str | None) -> list[Mutant]:
    """The catalogue, or the mutants ``only`` names (comma-separated); unknown names stop."""
    if not only:
        return list(MUTANTS)
    names = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        raise SystemExit(f"mutation-http: no such mutant: {', '.join(unknown)} (see --list)")
    return [BY_NAME[name] for name in names]


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; exit 0 when the goals are met, 1 when not, 2 when nothing was measured."""
    parser = argparse.ArgumentParser(prog="mutation_http", description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--only", metavar="NAME,NAME", help="run only these mutants")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds per run (default 300)"
    )
    parser.add_argument("--max-examples", type=int, help="kakaclo contract --max-examples")
    parser.add_argument(
        "--report", type=Path, default=REPORT, help=f"default {REPORT.relative_to(ROOT)}"
    )
    args = parser.parse_args(argv)
    mutants = select(args.only)
    if args.list:
        for mutant in mutants:
            note = (
                f"  [unobservable read-only: {mutant.unobservable}]" if mutant.unobservable else ""
            )
            print(f"{mutant.name:<36} {mutant.operation:<16} {mutant.rule}{note}")
        return 0
    started = time.monotonic()
    print(f"mutation-http: {len(mutants)} mutants, one read-only kakaclo contract run each")
    report: dict[str, Any] = {}
    try:
        with history_template() as template:
            baselines, verdicts = measure(
                mutants, template, timeout=args.timeout, max_examples=args.max_examples
            )
    except BaselineFailed as failed:
        print(f"mutation-http: stopped: {failed}", file=sys.stderr)
        report = {"score": None, "stopped": str(failed)}
        code = EXIT_CANNOT_RUN
    else:
        report = score(verdicts) | {
            "baselines": baselines,
            "seconds": round(time.monotonic() - started, 1),
            "verdicts": [v.as_json() for v in verdicts],
        }
        print()
        print(table(verdicts))
        print(
            f"\nscore {report['score']:.1%} ({report['killedReadOnly']} of {report['mutants']} "
            f"killed read-only; goal {GOAL:.0%}); unobservable {report['unobservable']} "
            f"(all killed in refund mode: {report['unobservableKilledInRefundMode']}); "
            f"{report['seconds']:.0f} s"
        )
        for kind in ("survivors", "couldNotRun"):
            if report[kind]:
                print(f"{kind}: {', '.join(report[kind])}")
        code = EXIT_PASSED if report["passed"] else EXIT_VIOLATIONS
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, indent=2) + "\n")
    print(f"report: {args.report}")
    return code


if __name__ == "__main__":
    sys.exit(main())
