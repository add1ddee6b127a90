"""Run the packaged suite: settings, preflight, pytest, and the reports' verdict.

This is what ``kakaclo contract`` calls. Settings travel as the ``KAKACLO_*``
variables of :mod:`kakaclo_contract.settings`, so the suite reads them the
same way whoever started it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from kakaclo_contract import summary
from kakaclo_contract.preflight import PreflightFailed
from kakaclo_contract.settings import DEFAULT_SUMMARY, RunSettings, SettingsError
from kakaclo_contract.target import app_factory, preflighted
from kakaclo_contract.verdict import EXIT_CANNOT_RUN, OUTCOMES

PACKAGE = Path(__file__).resolve().parent
SUITE = PACKAGE / "suite"
SUITE_INI = PACKAGE / "suite.ini"


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _junit_verdict(path: Path, code: int, reasons: list[str]) -> None:
    """Write the verdict into a JUnit file (made by pytest, or new when pytest never ran)."""
    if path.exists():
        tree = ET.parse(path)
        root = tree.getroot()
    else:
        root = ET.Element("testsuites")
        tree = ET.ElementTree(root)
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    if suite is None:
        suite = ET.SubElement(root, "testsuite", name="kakaclo-contract", tests="0", failures="0")
    properties = suite.find("properties")
    if properties is None:
        properties = ET.Element("properties")
        suite.insert(0, properties)
    ET.SubElement(properties, "property", name="kakaclo.outcome", value=OUTCOMES[code])
    ET.SubElement(properties, "property", name="kakaclo.exitCode", value=str(code))
    if code == EXIT_CANNOT_RUN:
        for reason in reasons:
            case = ET.SubElement(suite, "testcase", classname="kakaclo.contract", name="run")
            ET.SubElement(case, "error", message=reason).text = reason
            suite.set("tests", str(int(suite.get("tests", "0")) + 1))
            suite.set("errors", str(int(suite.get("errors", "0")) + 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def _cannot_run(line: str, summary_path: Path, junit: Path | None, as_json: bool) -> int:
    print(f"kakaclo contract: {line}", file=sys.stderr)
    report = {"outcome": OUTCOMES[EXIT_CANNOT_RUN], "exitCode": EXIT_CANNOT_RUN, "reasons": [line]}
    summary.write(summary_path, report)
    if junit:
        _junit_verdict(junit, EXIT_CANNOT_RUN, [line])
    if as_json:
        print(json.dumps(report, indent=2))
    return EXIT_CANNOT_RUN


def run(
    env: Mapping[str, str],
    *,
    junit: Path | None = None,
    summary_path: Path = DEFAULT_SUMMARY,
    as_json: bool = False,
    pytest_args: tuple[str, ...] = (),
) -> int:
    """Run the suite with ``env`` added to the environment; return the documented exit code.

    Each run writes its reports anew: a report left by an earlier run is removed
    first, so a run that stops early never adds its verdict to another run's file.
    """
    summary_path.unlink(missing_ok=True)
    if junit:
        junit.unlink(missing_ok=True)
    with _environment(env):
        try:
            settings = RunSettings.from_env()
            if settings.over_http:
                preflighted(settings)
            else:
                app_factory(settings.app)  # a wrong KAKACLO_APP stops here, in one line
        except SettingsError as error:
            return _cannot_run(str(error), summary_path, junit, as_json)
        except PreflightFailed as failed:
            return _cannot_run(f"preflight: {failed}", summary_path, junit, as_json)
        args = [
            str(SUITE),
            "-c",
            str(SUITE_INI),
            "--rootdir",
            str(PACKAGE),
            "--kakaclo-contract",
            "--kakaclo-summary",
            str(summary_path),
            *(["--junitxml", str(junit)] if junit else []),
            # one in-process app per worker; a module stays in one worker, in its order, so
            # every module meets the state it meets in one process; the plugin adds up counts
            *(["-n", settings.workers, "--dist", "loadfile"] if settings.parallel else []),
            *pytest_args,
        ]
        stream = sys.stderr if as_json else sys.stdout
        with contextlib.redirect_stdout(stream):
            status = int(pytest.main(args))
    if summary_path.exists():
        report = json.loads(summary_path.read_text())
        code = int(report["exitCode"])
    else:  # pytest stopped before the plugin could give its verdict
        code = status if status in OUTCOMES else EXIT_CANNOT_RUN
        report = {
            "outcome": OUTCOMES[code],
            "exitCode": code,
            "reasons": [f"the run stopped early (pytest exit status {status})"],
        }
        summary.write(summary_path, report)
    if junit:
        _junit_verdict(junit, code, list(report.get("reasons", [])))
    if as_json:
        print(json.dumps(report, indent=2))
    return code
