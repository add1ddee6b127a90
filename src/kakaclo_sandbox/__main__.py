"""``kakaclo-sandbox``: run the sandbox server.

kakaclo-sandbox --port 8080 --db .sandbox/sandbox.db --settle-after 5 --rate-limit 120/2
kakaclo-sandbox --data my-orders.yaml --fresh
kakaclo-sandbox proxy --upstream URL   (the validating proxy: kakaclo_proxy.cli)
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import socket
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kakaclo_sandbox import database_url, process_lock
from kakaclo_sandbox.banner import banner
from kakaclo_sandbox.ratelimit import MAX_RATE, RateLimit, vendor_limit
from kakaclo_sandbox.settings import DEFAULT_DB, DEFAULT_SETTLE_AFTER, Settings
from kakaclo_serving import arguments
from kakaclo_serving.arguments import OneLineErrors
from kakaclo_serving.collector import prepare_for_serving
from kakaclo_serving.listening import bind, start_listening
from kakaclo_serving.version import __version__


def _rate_limit(text: str) -> RateLimit | None:
    try:
        return RateLimit.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


LOUD_DATA_BYTES = 1 << 20  # a data file this large (1 MiB) takes a moment to load: say so first
MAX_SETTLE_AFTER = 7 * 24 * 3600  # the vendor settles within 24 h; a week is plenty


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a process Ctrl-C ended
DB_VARIABLE = "KAKACLO_SANDBOX_DB"  # --db from the environment (keeps a URL out of ps)


def _database(text: str) -> str:
    try:
        database_url.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def database_of(args: argparse.Namespace) -> database_url.Database:
    """Where the data is kept: ``--db``, else ``$KAKACLO_SANDBOX_DB``, else the default file.

    ``ValueError`` with one line for a value the sandbox cannot use.
    """
    value = args.db or os.environ.get(DB_VARIABLE) or str(DEFAULT_DB)
    try:
        return database_url.parse(value)
    except ValueError as error:
        source = "--db" if args.db else DB_VARIABLE
        raise ValueError(f"{source}: {error}") from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 <= value <= MAX_SETTLE_AFTER):
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds from 0 to {MAX_SETTLE_AFTER}, not {text!r}"
        )
    return value


def _workers(text: str) -> int:
    from kakaclo_sandbox.workers import MAX_WORKERS

    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of processes from 1 to {MAX_WORKERS}, not {text!r}"
        )
    return value


def _host_name(text: str) -> str:
    from kakaclo_sandbox.web.guard import valid_name

    name = text.strip()
    if not valid_name(name):
        raise argparse.ArgumentTypeError(
            f"must be a host name or address such as sandbox.test, without a port, not {text!r}"
        )
    return name


def build_parser(prog: str = "kakaclo-sandbox") -> argparse.ArgumentParser:
    """The command line of the sandbox (shared with ``kakaclo sandbox``)."""
    parser = OneLineErrors(
        prog=prog,
        description="A stateful Kakaclo refund API sandbox, validated by openapi.yaml.",
        epilog="example: %(prog)s --port 8080 --settle-after 2 --rate-limit off; "
        "the validating proxy: %(prog)s proxy --help",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default: %(default)s)")
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        type=_host_name,
        metavar="NAME",
        help="a Host name the control surface and the console answer under, besides the "
        "--host address and localhost (repeatable; others get 400, against DNS rebinding)",
    )
    parser.add_argument(
        "--port", type=arguments.port, default=8080, help="port, 1 to 65535 (default: %(default)s)"
    )
    parser.add_argument(
        "--db",
        type=_database,
        default=None,
        metavar="PATH_OR_URL",
        help=f"a SQLite file, :memory:, or a postgresql:// URL (needs the postgres extra; "
        f"default: ${DB_VARIABLE}, else {DEFAULT_DB})",
    )
    parser.add_argument(
        "--workers",
        type=_workers,
        default=1,
        metavar="N",
        help="serve through N processes on the one port (needs a postgresql:// --db: one "
        "process per SQLite file; default: %(default)s)",
    )
    parser.add_argument(
        "--settle-after",
        type=_seconds,
        default=DEFAULT_SETTLE_AFTER,
        metavar="SECONDS",
        help=f"delay before a pending refund settles, 0 to {MAX_SETTLE_AFTER} "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--rate-limit",
        type=_rate_limit,
        default=vendor_limit(),
        metavar="BURST/PER_SECOND|off",
        help=f"leaky bucket per token: BURST 1 to {MAX_RATE}, PER_SECOND above 0 up to "
        f"{MAX_RATE} (default: the vendor's {vendor_limit()})",
    )
    parser.add_argument(
        "--data",
        type=Path,
        metavar="FILE",
        help="load merchants, tokens and orders from a YAML or JSON data file "
        "(default: the shipped demo data)",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="replace what --db holds with the data (its refunds are dropped)",
    )
    parser.add_argument(
        "--clean",
        action="store_true",
        help='answer plain nulls instead of the vendor\'s forms ("NULL" strings, extra page keys)',
    )
    parser.add_argument(
        "--no-control",
        action="store_true",
        help="turn off the /_sandbox/ control surface and the Prefer header",
    )
    parser.add_argument(
        "--validate-responses",
        action="store_true",
        help="check every response against openapi.yaml (slower; for debugging)",
    )
    parser.add_argument(
        "--no-answer-cache",
        action="store_true",
        help="run every read's queries, even when the database has not changed since the "
        "same read (a kept answer never outlives a write)",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="info logs one line per request (default: %(default)s)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from parsed arguments."""
    database = database_of(args)
    return Settings(
        db=database.path if isinstance(database, database_url.SqliteFile) else database.url,
        settle_after=args.settle_after,
        rate_limit=args.rate_limit,
        control=not args.no_control,
        validate_responses=args.validate_responses,
        answer_cache=not args.no_answer_cache,
        clean=args.clean,
        data=args.data,
        fresh=args.fresh,
        allowed_hosts=(args.host, "localhost", *args.allowed_host),
    )


def serve(args: argparse.Namespace) -> None:
    """Run the sandbox until SIGINT or SIGTERM (uvicorn shuts down cleanly on both).

    In this order, each failing in one line with exit 2 before anything claims
    readiness: the port is bound (claimed, a busy one fails at once, before the
    database file is created), a SQLite file is locked, the app is built (the
    PostgreSQL server reached: ``cannot connect to ...`` otherwise; the
    data loaded: slow for a large file, with progress on stderr), the port
    listens; then the banner says where everything is. Until it listens, a
    client's connection is refused, never left hanging on a server that cannot
    answer yet. With ``--workers N`` above 1 this process then lets go of the database
    and serves through N worker processes that join it (:mod:`kakaclo_sandbox.workers`).
    """
    from kakaclo_sandbox.serving import LOG_FORMAT
    from kakaclo_sandbox.web.app import create_app

    logging.basicConfig(level=args.log_level.upper(), format=LOG_FORMAT)
    with contextlib.ExitStack() as stack:
        try:
            settings = settings_from(args)
            sqlite = isinstance(database_url.parse(settings.db), database_url.SqliteFile)
            if sqlite and args.workers > 1:
                raise ValueError(
                    "one process per database file; --workers needs --db postgresql://..."
                )
            # The port first: a busy one is refused before the database file is created.
            sock = stack.enter_context(bind(args.host, args.port))
            if sqlite:
                # one process per file; a PostgreSQL server takes several
                stack.enter_context(process_lock.held(settings.db))
            loading = _loading_line(settings.data, args.port)
            if loading is not None:
                print(loading, file=sys.stderr, flush=True)
            app = create_app(settings)
            start_listening(sock)
        except (ValueError, OSError) as error:  # in use, bad data, a foreign database, a port
            print(_one_line(f"kakaclo-sandbox: {error}"), file=sys.stderr)
            sys.exit(2)
        host = f"[{args.host}]" if ":" in args.host else args.host
        sandbox = app.state.sandbox
        root = f"http://{host}:{args.port}"
        print(
            banner(root, sandbox.spec.server_root, settings, sandbox.data, workers=args.workers),
            file=sys.stderr,
            flush=True,
        )
        if args.workers == 1:
            _run(app, args, sock)
            return
        from kakaclo_sandbox.workers import serve_workers

        sandbox.close()  # prepared: the workers join it; this process only supervises
        code = serve_workers(sock, settings, sandbox.data, args.workers, args.log_level)
        if code:
            sys.exit(code)


def _loading_line(data: Path | None, port: int) -> str | None:
    """What to say before loading a data file that takes a moment (a large file, or a
    pipe); None for the others (and the demo data), whose errors stay one line."""
    if data is None:
        return None
    try:
        found = data.stat()
    except OSError:
        return None  # loading it says why
    from kakaclo_sandbox.data import MAX_DATA_BYTES

    regular = stat.S_ISREG(found.st_mode)
    if stat.S_ISDIR(found.st_mode) or (regular and found.st_size > MAX_DATA_BYTES):
        return None  # refused at once, in one line: nothing to wait for
    if regular and found.st_size < LOUD_DATA_BYTES:
        return None
    size = f"{found.st_size / 2**20:.1f} MiB" if regular else "not a regular file"
    return (
        f"kakaclo-sandbox: loading {data} ({size}); port {port} refuses connections "
        "until it is loaded"
    )


def _run(app: Any, args: argparse.Namespace, sock: socket.socket) -> None:
    from kakaclo_sandbox.serving import SandboxServer, uvicorn_config

    sandbox = app.state.sandbox
    prepare_for_serving()
    try:
        SandboxServer(uvicorn_config(app, args.log_level), lambda: sandbox).run(sockets=[sock])
    finally:
        sandbox.close()
    if sandbox.store.lost is not None:
        sys.exit(1)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def main(argv: Sequence[str] | None = None, prog: str = "kakaclo-sandbox") -> None:
    """Entry point of ``kakaclo-sandbox`` (and of ``kakaclo sandbox``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["proxy"]:
        from kakaclo_proxy.cli import main as proxy_main

        proxy_main(argv[1:], prog=f"{prog} proxy")
        return
    args = build_parser(prog).parse_args(argv)
    try:
        serve(args)
    except OSError as error:
        sys.exit(f"kakaclo-sandbox: {error}")
    except KeyboardInterrupt:
        # Ctrl-C: uvicorn has shut down cleanly and re-raised the signal (or the data was
        # still loading, in a transaction now rolled back). The shell's code, no traceback.
        sys.exit(EXIT_INTERRUPTED)


if __name__ == "__main__":
    main()
