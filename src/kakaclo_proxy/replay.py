"""``kakaclo contract --replay FILE.har``: the proxy's checks over a recording, offline.

A recording made through the proxy (against the vendor's test environment,
say) becomes a regression fixture: the same per-exchange checks and
cross-exchange rules, the same reports. Recordings of other tools (a
browser's HAR export) work too; their API root is found from each URL.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

from kakaclo_proxy.checks import ExchangeChecker
from kakaclo_proxy.findings import Finding
from kakaclo_proxy.har import NotARecording, read_har
from kakaclo_proxy.inspector import Inspector
from kakaclo_proxy.reports import FailOn, Reports, summary_table
from kakaclo_spec import shipped_spec

DEFAULT_REPORT = Path("reports/replay")
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def replay(
    recording: Path,
    *,
    report: Path = DEFAULT_REPORT,
    fail_on: FailOn = "error",
    junit_xml: Path | None = None,
    as_json: bool = False,
    quiet: bool = False,
) -> int:
    """Check every exchange of ``recording``; the exit status ``fail_on`` asks for."""
    try:
        upstream, exchanges = read_har(recording)
    except NotARecording as error:
        print(f"kakaclo contract --replay: {error}", file=sys.stderr)
        return EXIT_USAGE
    base_path = urlsplit(upstream).path if upstream else None
    reports = Reports(report)

    def show(finding: Finding) -> None:
        if not quiet:
            print(finding.line(), file=sys.stderr)

    inspector = Inspector(ExchangeChecker(shipped_spec(), base_path), reports, on_finding=show)
    try:
        for exchange in exchanges:
            inspector.inspect(exchange)
    except KeyboardInterrupt:
        reports.close(fail_on)
        print(
            f"kakaclo contract --replay: interrupted after {inspector.count} of "
            f"{len(exchanges)} exchange(s); reports in {report}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    reports.close(fail_on)
    if junit_xml is not None:
        junit_xml.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(report / "junit.xml", junit_xml)
    print(summary_table(reports), file=sys.stderr)
    failed = reports.failed(fail_on)
    print(
        f"{recording}: {len(exchanges)} exchange(s) replayed, reports in {report}: "
        f"{'FAILED' if failed else 'passed'} (--fail-on {fail_on})",
        file=sys.stderr,
    )
    if as_json:
        print(json.dumps(json.loads((report / "summary.json").read_text()), indent=2))
    return EXIT_FINDINGS if failed else 0
