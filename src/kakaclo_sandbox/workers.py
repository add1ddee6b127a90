"""``kakaclo-sandbox --workers N``: N worker processes answer on one listening socket.

The parent binds the port, prepares the database and loads the data once, listens and
prints the banner (``__main__.serve``); then it lets go of the database and only
supervises, through uvicorn's own supervisor (``uvicorn.supervisors.Multiprocess``,
uvicorn is pinned): each worker is a *spawned* process (nothing of the parent's
connections or threads is forked into it) that receives the socket and builds its app
from :class:`WorkerApp`, the parent's settings without ``--fresh`` and the data file
as the parent read it (a file edited since changes no worker): it joins the database
the parent prepared, never wipes or seeds it. What this adds to uvicorn's:

- a worker that dies (``kill -9``, a crash, a hang past the health check) is started
  again with one log line; one that keeps dying within :data:`QUICK_DEATH_SECONDS` of
  its start is not restarted in a loop: after :data:`MAX_QUICK_DEATHS` in a row the
  sandbox stops, exit 1, saying why;
- SIGINT ends every worker and the parent with 130 (the shell's code for Ctrl-C),
  SIGTERM with 0; a worker stops as uvicorn stops, then closes its sandbox;
- SIGHUP, SIGTTIN and SIGTTOU (uvicorn's restart, more, fewer) are ignored: ``--workers``
  fixes N.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Generator
from typing import TYPE_CHECKING

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from kakaclo_sandbox.serving import WORKER_LOG_FORMAT, SandboxServer, uvicorn_config
from kakaclo_sandbox.settings import Settings
from kakaclo_serving.signals import stopping_on

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from kakaclo_sandbox.data import Dataset
    from kakaclo_sandbox.web.state import Sandbox

log = logging.getLogger("kakaclo_sandbox")

MAX_WORKERS = 64  # far past what one machine's cores make useful
QUICK_DEATH_SECONDS = 10.0  # a worker that ends sooner after its start "died at once"
MAX_QUICK_DEATHS = 3  # in a row, in one worker's place: then the sandbox stops
HEALTHCHECK_SECONDS = 10  # a worker that does not answer the parent's ping is hung
STOP_SECONDS = 30.0  # how long the parent waits for its workers to stop, then kills them
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_GAVE_UP = 1
EXIT_WORKER_START = 2  # a worker that could not build its app (one line said why)


@dataclasses.dataclass
class WorkerApp:
    """The app factory each worker runs (pickled to it with uvicorn's config)."""

    settings: Settings  # the parent's, without --fresh
    # the data file as the parent read it: a file changed since never stops a worker
    data: Dataset
    workers: int
    log_level: str
    parent: int  # the supervisor's pid: a worker that outlives it stops
    built: Starlette | None = None  # in the worker, once built

    def __call__(self) -> Starlette:
        """The worker's app, on the database the parent prepared (exit 2 in one line
        when it cannot be built: the server is gone, say)."""
        from kakaclo_sandbox.web.app import create_app
        from kakaclo_serving.collector import prepare_for_serving

        logging.basicConfig(level=self.log_level.upper(), format=WORKER_LOG_FORMAT)
        try:
            app = create_app(self.settings, dataset=self.data)
        except (ValueError, OSError) as error:
            reason = " ".join(str(error).split())
            print(f"kakaclo-sandbox: worker {os.getpid()}: {reason}", file=sys.stderr, flush=True)
            sys.exit(EXIT_WORKER_START)
        app.state.workers = self.workers
        self.built = app
        prepare_for_serving()
        return app

    def sandbox(self) -> Sandbox | None:
        """The worker's sandbox, once built."""
        if self.built is None:
            return None
        sandbox: Sandbox = self.built.state.sandbox
        return sandbox


class WorkerServer(SandboxServer):
    """A worker's server: stops on SIGINT or SIGTERM as uvicorn does, then returns instead
    of raising the signal again, so that the worker closes its sandbox and exits 0. It
    also stops when its parent is gone (``kill -9``): no worker serves unsupervised."""

    def __init__(self, config: uvicorn.Config, factory: WorkerApp) -> None:
        super().__init__(config, factory.sandbox)
        self.parent = factory.parent

    async def on_tick(self, counter: int) -> bool:
        """Stop once the parent is gone (this process was given to another)."""
        if os.getppid() != self.parent and not self.should_exit:
            log.warning("the parent process %s is gone: stopping", self.parent)
            self.should_exit = True
        return await super().on_tick(counter)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Stop gracefully on SIGINT and SIGTERM while serving."""
        with stopping_on(self.handle_exit):
            yield


class WorkerProcess(Process):
    """One worker: uvicorn's process (spawned, the socket passed, pinged for health),
    serving a :class:`WorkerApp` with a :class:`WorkerServer`."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        self.started_at = time.monotonic()

    @property
    def factory(self) -> WorkerApp:
        """The app factory this worker runs."""
        factory = self.config.app
        assert isinstance(factory, WorkerApp)
        return factory

    @property
    def server(self) -> uvicorn.Server:
        """The worker's server (built in the worker)."""
        if self._server is None:
            self._server = WorkerServer(self.config, self.factory)
        return self._server

    def always_pong(self) -> None:
        """Answer the parent's health checks until it is gone (then on_tick stops us)."""
        with contextlib.suppress(EOFError, OSError):
            super().always_pong()

    def target(self, sockets: list[socket.socket] | None = None) -> None:
        """Serve until stopped, then close the sandbox (runs in the worker)."""
        try:
            super().target(sockets)
        finally:
            sandbox = self.factory.sandbox()
            if sandbox is not None:
                sandbox.close()

    def start(self) -> None:
        """Start the worker process."""
        self.started_at = time.monotonic()
        super().start()


class Supervisor(Multiprocess):
    """uvicorn's supervisor of N workers, with bounded restarts and the sandbox's exit codes."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        self.exit_code = 0
        self._quick_deaths = [0] * self.processes_num  # in a row, per worker's place

    def init_processes(self) -> None:
        """Start the N workers."""
        for _ in range(self.processes_num):
            self.processes.append(self._start())

    def _start(self) -> WorkerProcess:
        process = WorkerProcess(self.config, self.sockets)
        process.start()
        return process

    def keep_subprocess_alive(self) -> None:
        """Start a worker again in the place of one that ended or hangs; stop the sandbox
        when one place's workers keep dying at once."""
        for index, process in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()  # a hung one; a dead one is only reaped
            process.process.join()
            assert isinstance(process, WorkerProcess)
            lived = time.monotonic() - process.started_at
            quick = lived < QUICK_DEATH_SECONDS
            self._quick_deaths[index] = self._quick_deaths[index] + 1 if quick else 0
            ended = _how_it_ended(process.exitcode)
            if self._quick_deaths[index] >= MAX_QUICK_DEATHS:
                print(
                    f"kakaclo-sandbox: a worker ended within {QUICK_DEATH_SECONDS:g} s of its "
                    f"start {MAX_QUICK_DEATHS} times in a row (the last, {process.pid}, "
                    f"{ended}); stopping: its log lines above say why",
                    file=sys.stderr,
                    flush=True,
                )
                self.exit_code = EXIT_GAVE_UP
                self.should_exit.set()
                return
            self.processes[index] = self._start()
            log.warning(
                "worker %s %s after %.1f s; started worker %s in its place",
                process.pid,
                ended,
                lived,
                self.processes[index].pid,
            )

    def join_all(self) -> None:
        """Wait for the workers to stop (at most STOP_SECONDS), then kill what is left."""
        deadline = time.monotonic() + STOP_SECONDS
        for process in self.processes:
            process.process.join(max(0.0, deadline - time.monotonic()))
            if process.exitcode is None:
                log.warning("worker %s did not stop within %g s: killed", process.pid, STOP_SECONDS)
                process.kill()
                process.process.join()

    def handle_int(self) -> None:
        """Ctrl-C: stop every worker, then exit 130."""
        if self.exit_code == 0:
            self.exit_code = EXIT_INTERRUPTED
        super().handle_int()

    def handle_hup(self) -> None:
        """Ignored (uvicorn would restart the workers)."""
        log.info("SIGHUP ignored: restart kakaclo-sandbox to restart its workers")

    def handle_ttin(self) -> None:
        """Ignored (uvicorn would add a worker): --workers fixes N."""
        log.info("SIGTTIN ignored: --workers %s fixes the number of workers", self.processes_num)

    def handle_ttou(self) -> None:
        """Ignored (uvicorn would stop a worker): --workers fixes N."""
        log.info("SIGTTOU ignored: --workers %s fixes the number of workers", self.processes_num)


def _how_it_ended(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-exitcode).name}"
    return f"exited with {exitcode}"


def serve_workers(
    sock: socket.socket, settings: Settings, data: Dataset, workers: int, log_level: str
) -> int:
    """Serve ``sock`` through ``workers`` processes until SIGINT or SIGTERM; the exit code
    (0 for SIGTERM, 130 for SIGINT, 1 when workers kept dying at once). The database is
    prepared already: the workers join it, with the data file as the parent read it."""
    factory = WorkerApp(
        dataclasses.replace(settings, fresh=False), data, workers, log_level, parent=os.getpid()
    )
    config = uvicorn_config(
        factory,
        log_level,
        factory=True,
        workers=workers,
        timeout_worker_healthcheck=HEALTHCHECK_SECONDS,
    )
    supervisor = Supervisor(config, [sock])
    supervisor.run()
    return supervisor.exit_code
