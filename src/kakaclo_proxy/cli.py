"""``kakaclo-sandbox proxy``: a validating reverse proxy in front of any server of the spec.

kakaclo-sandbox proxy --upstream https://test-developer.kakaclo.com/openapi --record run.har
kakaclo-sandbox proxy --upstream http://127.0.0.1:8080/openapi --fail-on warning
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import socket
import sys
from collections.abc import Generator, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import uvicorn

from kakaclo_proxy.app import ProxyApp, create_proxy
from kakaclo_proxy.findings import Finding
from kakaclo_proxy.redaction import Redactor
from kakaclo_proxy.reports import FAIL_ON, summary_table
from kakaclo_proxy.serving import DEFAULT_BODY_TIMEOUT, DEFAULT_HEAD_TIMEOUT, bounded_http
from kakaclo_proxy.upstream import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_BODY,
    DEFAULT_MAX_HEAD,
    DEFAULT_MAX_REQUEST_BODY,
    DEFAULT_READ_TIMEOUT,
)
from kakaclo_serving import arguments
from kakaclo_serving.arguments import OneLineErrors
from kakaclo_serving.collector import prepare_for_serving
from kakaclo_serving.listening import listen
from kakaclo_serving.signals import stopping_on
from kakaclo_serving.version import __version__

DEFAULT_PORT = 8081
DEFAULT_REPORT = Path("reports/proxy")
MAX_TIMEOUT = 600.0
MAX_SIZE = 1 << 30  # bytes: the largest cap a flag takes
EXIT_FINDINGS = 1
EXIT_USAGE = 2


def upstream_url(text: str) -> str:
    """An http(s) base URL with a host (the same URL the client takes)."""
    try:
        split = urlsplit(text)
        _ = split.port  # a port out of range is a ValueError here, not a traceback later
        shown = Redactor(text).url(text)  # an error never repeats the URL's password
    except ValueError:  # argparse would print the text whole
        raise argparse.ArgumentTypeError("must be an http:// or https:// base URL") from None
    if split.scheme not in ("http", "https") or not split.hostname:
        raise argparse.ArgumentTypeError(
            f"must be an http:// or https:// base URL such as "
            f"https://test-developer.kakaclo.com/openapi, not {shown!r}"
        )
    if split.query or split.fragment:
        raise argparse.ArgumentTypeError(f"a base URL has no query or fragment: {shown!r}")
    return text.rstrip("/")


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= MAX_TIMEOUT):
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds above 0 up to {MAX_TIMEOUT:g}, not {text!r}"
        )
    return value


def _size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1024 <= value <= MAX_SIZE:
        raise argparse.ArgumentTypeError(
            f"must be a number of bytes from 1024 up to {MAX_SIZE}, not {text!r}"
        )
    return value


def build_parser(prog: str = "kakaclo-sandbox proxy") -> argparse.ArgumentParser:
    """The proxy's command line (also ``kakaclo proxy``)."""
    parser = OneLineErrors(
        prog=prog,
        description="A validating reverse proxy: forwards every request to --upstream unchanged "
        "and checks each exchange against openapi.yaml. Ctrl-C (or SIGTERM) writes the reports "
        "and exits 1 when --fail-on says the run failed.",
        epilog="example: %(prog)s --upstream https://test-developer.kakaclo.com/openapi "
        "--record reports/proxy/run.har",
    )
    parser.add_argument(
        "--upstream",
        required=True,
        type=upstream_url,
        metavar="URL",
        help="the API's base URL, as the client takes it; the proxy serves the same path",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default: %(default)s)")
    parser.add_argument(
        "--port",
        type=arguments.port,
        default=DEFAULT_PORT,
        help="port, 1 to 65535 (default: %(default)s)",
    )
    parser.add_argument(
        "--report",
        type=Path,
        default=DEFAULT_REPORT,
        metavar="DIR",
        help="findings.ndjson (live), junit.xml and summary.json "
        "(at shutdown) go here (default: %(default)s)",
    )
    parser.add_argument(
        "--record",
        type=Path,
        metavar="FILE.har",
        help="record the exchanges as HAR 1.2, secrets redacted (as in every output), "
        "each body up to its cap",
    )
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default="error",
        help="exit 1 at shutdown on any error, any warning too, or never (default: %(default)s)",
    )
    parser.add_argument(
        "--connect-timeout",
        type=_timeout,
        default=DEFAULT_CONNECT_TIMEOUT,
        metavar="SECONDS",
        help="to connect to the upstream (default: %(default)s); then 502",
    )
    parser.add_argument(
        "--timeout",
        type=_timeout,
        default=DEFAULT_READ_TIMEOUT,
        metavar="SECONDS",
        help="to wait for the head of the upstream's answer, then 502; and then between two "
        "reads of its body, then the answer is cut (default: %(default)s)",
    )
    parser.add_argument(
        "--head-timeout",
        type=_timeout,
        default=DEFAULT_HEAD_TIMEOUT,
        metavar="SECONDS",
        help="for a client's request head (line and headers) to arrive whole, from the "
        "connection or the request's first byte; then the connection is closed unanswered "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--body-timeout",
        type=_timeout,
        default=DEFAULT_BODY_TIMEOUT,
        metavar="SECONDS",
        help="for a client's request body to arrive whole, from the end of its head; then the "
        "connection is closed unanswered and nothing is forwarded (default: %(default)s)",
    )
    parser.add_argument(
        "--max-head",
        type=_size,
        default=DEFAULT_MAX_HEAD,
        metavar="BYTES",
        help="cap on a request's head (else its connection is closed unanswered) and on an "
        "answer's head (else 502 UPSTREAM_UNAVAILABLE) (default: %(default)s)",
    )
    parser.add_argument(
        "--max-request-body",
        type=_size,
        default=DEFAULT_MAX_REQUEST_BODY,
        metavar="BYTES",
        help="cap on a request's body: over it the proxy answers 413 PAYLOAD_TOO_LARGE itself "
        "and forwards nothing (default: %(default)s)",
    )
    parser.add_argument(
        "--max-answer-body",
        type=_size,
        default=DEFAULT_MAX_BODY,
        metavar="BYTES",
        help="cap on an answer's body: 502 UPSTREAM_UNAVAILABLE when its Content-Length is "
        "over it, else the streamed answer is cut there; an event stream is never cut, only "
        "recorded up to it (default: %(default)s)",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="do not print findings as they happen (the reports still get them)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


class _NoCutNotice(logging.Filter):
    """Drops uvicorn's error line for an answer the proxy cut on purpose (a finding says
    why: the cap, or an upstream that broke mid-answer)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "ASGI callable returned without completing response."


CUT_NOTICE = _NoCutNotice()


def server_config(
    app: ProxyApp,
    *,
    head_timeout: float = DEFAULT_HEAD_TIMEOUT,
    max_request_head: int = DEFAULT_MAX_HEAD,
    body_timeout: float = DEFAULT_BODY_TIMEOUT,
) -> uvicorn.Config:
    """uvicorn's settings for the proxy: no Date or Server header of its own (the
    upstream's pass through), no access log (findings are the proxy's output), and
    bounds on each request's head and body (:mod:`kakaclo_proxy.serving`)."""
    logging.getLogger("uvicorn.error").addFilter(CUT_NOTICE)
    return uvicorn.Config(
        app,
        loop="uvloop",
        http=bounded_http(head_timeout, max_request_head, body_timeout),
        lifespan="on",
        access_log=False,
        log_level="warning",
        server_header=False,
        date_header=False,
        proxy_headers=False,  # X-Forwarded-* pass through to the upstream untouched
    )


def _print_finding(finding: Finding) -> None:
    print(finding.line(), file=sys.stderr, flush=True)


def serve(args: argparse.Namespace) -> int:
    """Run the proxy until SIGINT or SIGTERM; the exit status ``--fail-on`` asks for."""
    base_path = urlsplit(args.upstream).path
    try:
        sock = listen(args.host, args.port)
    except OSError as error:
        print(f"kakaclo proxy: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        app = create_proxy(
            args.upstream,
            args.report,
            record=args.record,
            fail_on=args.fail_on,
            connect_timeout=args.connect_timeout,
            read_timeout=args.timeout,
            on_finding=None if args.quiet else _print_finding,
            max_request_body=args.max_request_body,
            max_answer_body=args.max_answer_body,
            max_head=args.max_head,
        )
    except OSError as error:
        sock.close()
        print(f"kakaclo proxy: cannot write {error.filename}: {error.strerror}", file=sys.stderr)
        return EXIT_USAGE
    reports = app.inspector.reports
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(
        f"kakaclo proxy {__version__}: http://{host}:{args.port}{base_path} -> "
        f"{app.redactor.url(args.upstream)}\n"
        f"  findings as they happen: {reports.findings_path}\n"
        f"  at Ctrl-C: {args.report / 'junit.xml'}, {args.report / 'summary.json'}"
        + (f"\n  recording: {args.record}" if args.record else ""),
        file=sys.stderr,
        flush=True,
    )
    prepare_for_serving()
    config = server_config(
        app,
        head_timeout=args.head_timeout,
        max_request_head=args.max_head,
        body_timeout=args.body_timeout,
    )
    _Server(config).run(sockets=[sock])
    print(summary_table(reports), file=sys.stderr)
    failed = reports.failed(args.fail_on)
    print(
        f"reports in {args.report}: {'FAILED' if failed else 'passed'} (--fail-on {args.fail_on})",
        file=sys.stderr,
    )
    return EXIT_FINDINGS if failed else 0


class _Server:
    """uvicorn's server, stopping on SIGINT/SIGTERM without re-raising the signal after
    shutdown (uvicorn does, which would replace the exit status ``--fail-on`` decides)."""

    def __init__(self, config: uvicorn.Config) -> None:
        class Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Generator[None, None, None]:
                with stopping_on(self.handle_exit):
                    yield

        self._server = Server(config)

    def run(self, sockets: list[socket.socket]) -> None:
        """Serve until told to stop."""
        self._server.run(sockets=sockets)


def main(argv: Sequence[str] | None = None, prog: str = "kakaclo-sandbox proxy") -> None:
    """Entry point of ``kakaclo-sandbox proxy`` (and of ``kakaclo proxy``)."""
    args = build_parser(prog).parse_args(argv)
    sys.exit(serve(args))
