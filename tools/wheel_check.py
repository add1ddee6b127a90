"""make wheel-check: build the wheel and the sdist, install the wheel six ways, smoke each.

Outside the checkout (a temporary directory, so nothing imports the source
tree), the sdist is built and the wheel is built from it; then the wheel goes
into six fresh virtualenvs: the base install and ``[cli]``, ``[sandbox]``,
``[contract]``, ``[postgres]``, ``[all]``, each with ``requirements.lock`` as
constraints. In each, a smoke test that suits the extra:

- base: the client imports, ``starlette`` does not, both commands print the
  one line naming their extra and exit 2, and the client refunds an order of
  a started sandbox;
- ``[sandbox]``: ``kakaclo-sandbox`` starts, answers the README's copy of
  the vendor's curl example and serves the console and the docs;
  ``kakaclo-sandbox proxy`` in front of it passes a request on, records it
  and, at SIGINT, exits 0 with its reports;
- ``[cli]``: ``kakaclo orders list`` against that sandbox, and
  ``kakaclo sandbox`` names the missing ``[sandbox]`` extra;
- ``[contract]``: ``kakaclo contract`` against that sandbox passes, and
  ``kakaclo contract --replay`` checks the proxy's recording;
- ``[postgres]``: ``kakaclo-sandbox --db postgresql://...`` on a PostgreSQL
  server of the tests' own (``tests/postgres.py``) answers the vendor's curl
  example; without the extra (``[sandbox]``) such a URL is one line naming
  ``[postgres]`` and exit 2;
- ``[all]``: every package and both commands.

Prints each install's size and writes ``reports/wheel-check.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "reports" / "wheel-check.json"
EXTRAS = ("base", "cli", "sandbox", "contract", "postgres", "all")
MISSING_EXTRA = 2
READY_WITHIN = 60.0  # seconds for a started sandbox to answer
CONTRACT_EXAMPLES = 5  # a smoke of the installed command; make test runs the full budget


class CheckFailed(Exception):
    """One smoke test did not do what it should."""


def step(message: str) -> None:
    """Say what happens now (long work shows progress)."""
    print(f"wheel-check: {message}", flush=True)


def run(
    command: list[str], *, cwd: Path, env: dict[str, str] | None = None, expect: int = 0
) -> str:
    """Run ``command``; its output, or CheckFailed when it exits otherwise than ``expect``."""
    done = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = done.stdout + done.stderr
    if done.returncode != expect:
        raise CheckFailed(
            f"{shlex.join(command)} exited {done.returncode}, expected {expect}:\n{output[-3000:]}"
        )
    return output


def build(out: Path) -> tuple[Path, Path]:
    """The sdist, and the wheel built from it (proves the sdist is complete)."""
    step(f"building the sdist and the wheel into {out}")
    run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], cwd=out)
    sdists, wheels = sorted(out.glob("*.tar.gz")), sorted(out.glob("*.whl"))
    if len(sdists) != 1 or len(wheels) != 1:
        raise CheckFailed(f"expected one sdist and one wheel in {out}, found {sdists + wheels}")
    return sdists[0], wheels[0]


def make_venv(where: Path, wheel: Path, extra: str) -> Path:
    """A fresh virtualenv with the wheel (and ``extra``) installed; its bin directory."""
    step(f"installing the wheel{'' if extra == 'base' else f' [{extra}]'} into a fresh venv")
    run([sys.executable, "-m", "venv", str(where)], cwd=where.parent)
    python = where / "bin" / "python"
    target = str(wheel) if extra == "base" else f"{wheel}[{extra}]"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run([*pip, "-c", str(ROOT / "requirements.lock"), target], cwd=where.parent)
    return where / "bin"


def site_size(venv: Path) -> int:
    """Bytes the install added: the venv's site-packages, pip and setuptools left out."""
    total = 0
    for site in venv.glob("lib/python*/site-packages"):
        for path in site.rglob("*"):
            top = path.relative_to(site).parts[0]
            if path.is_file() and not top.startswith(("pip", "setuptools", "_distutils")):
                total += path.stat().st_size
    return total


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def started_sandbox(bin_dir: Path, work: Path, db: str | None = None) -> Iterator[str]:
    """``kakaclo-sandbox`` of ``bin_dir`` on a free port (``--db``: a file of ``work``,
    or ``db``); yields its server root URL."""
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    log = (work / "sandbox.log").open("w")
    # --rate-limit off: the smoke is of the install (make test checks the pacing)
    command = [str(bin_dir / "kakaclo-sandbox"), "--port", str(port), "--rate-limit", "off"]
    process = subprocess.Popen(
        [*command, "--db", db or str(work / "sandbox.db")],
        cwd=work,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + READY_WITHIN
        while True:  # a readiness poll of a child process, not a timed test
            if process.poll() is not None:
                raise CheckFailed(f"kakaclo-sandbox exited {process.returncode}:\n{_tail(work)}")
            try:
                urllib.request.urlopen(root + "/_sandbox/info", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise CheckFailed(f"kakaclo-sandbox did not answer:\n{_tail(work)}") from None
                time.sleep(0.1)
        yield root
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _tail(work: Path) -> str:
    return (work / "sandbox.log").read_text()[-2000:]


def readme_curl(root: str) -> list[str]:
    """The README's copy of the vendor's curl example, pointed at ``root``."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^curl -d .*?\n(?:.*\\\n)*.*$", readme, re.M)
    if match is None:
        raise CheckFailed("README.md has no curl -d example")
    command = match.group(0).replace("\\\n", " ").replace("http://127.0.0.1:8080", root)
    return shlex.split(command)


def smoke_base(bins: Path, work: Path, root: str) -> None:
    """The client alone: imports, no server stack, commands name their extra, a real call."""
    python = str(bins / "python")
    probe = "import importlib.util as u, kakaclo_refunds, kakaclo_client; "
    probe += "print(u.find_spec('starlette') is None and u.find_spec('typer') is None)"
    if run([python, "-c", probe], cwd=work).strip() != "True":
        raise CheckFailed("the base install makes starlette or typer importable")
    for command, extra in (("kakaclo", "cli"), ("kakaclo-sandbox", "sandbox")):
        said = run([str(bins / command), "--help"], cwd=work, expect=MISSING_EXTRA).strip()
        if said.count("\n") or f"[{extra}]" not in said:
            raise CheckFailed(f"{command} without its extra said: {said!r}")
    call = (
        "from kakaclo_refunds import KakacloClient\n"
        f"with KakacloClient(token='demo-token', base_url='{root}/openapi') as kk:\n"
        "    number = kk.refund_order('10002', remark='wheel-check')\n"
        "    refunds = [r.refund_no for r in kk.list_refunds('10002')]\n"
        "    assert number in refunds, (number, refunds)\n"
        "    print(number)\n"
    )
    number = run([python, "-c", call], cwd=work).strip()
    step(f"  base: the client refunded order 10002 as {number}")


def smoke_sandbox(root: str, work: Path) -> None:
    """The vendor's curl example (the README's copy) against the started sandbox."""
    command = readme_curl(root)
    if shutil.which("curl"):
        answer = run([*command, "--silent", "--show-error"], cwd=work)
    else:
        answer = _send_like_curl(command)
    body = json.loads(answer)
    if body.get("code") != 10000 or not str(body.get("data", "")).isdigit():
        raise CheckFailed(f"the vendor's curl example got {answer}")
    step(f"  sandbox: the vendor's curl example answered {answer.strip()}")
    for path in ("/console", "/console/console.js", "/console/console.css", "/docs"):
        with urllib.request.urlopen(root + path, timeout=30) as response:
            if response.status != 200 or not response.read():
                raise CheckFailed(f"the installed sandbox does not serve {path}")
    step("  sandbox: the console's page and assets and /docs are shipped in the wheel")


def _send_like_curl(argv: list[str]) -> str:
    # the same request without a curl binary: -d BODY -X METHOD URL -H HEADER
    words, data, method, url, headers = iter(argv[1:]), None, "GET", "", {}
    for word in words:
        if word == "-d":
            data, method = next(words).encode(), "POST"
        elif word == "-X":
            method = next(words)
        elif word == "-H":
            name, _, value = next(words).partition(":")
            headers[name.strip()] = value.strip()
        else:
            url = word
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(response.read().decode())


def smoke_cli(bins: Path, work: Path, root: str) -> None:
    """``kakaclo orders list`` against the sandbox; ``kakaclo sandbox`` names its extra."""
    env = {**os.environ, "KAKACLO_TOKEN": "demo-token", "KAKACLO_BASE_URL": root + "/openapi"}
    listed = run([str(bins / "kakaclo"), "orders", "list"], cwd=work, env=env)
    if "10001" not in listed:
        raise CheckFailed(f"kakaclo orders list did not list order 10001:\n{listed}")
    said = run([str(bins / "kakaclo"), "sandbox"], cwd=work, expect=MISSING_EXTRA).strip()
    if "[sandbox]" not in said:
        raise CheckFailed(f"kakaclo sandbox without its extra said: {said!r}")
    step("  cli: kakaclo orders list listed the sandbox's orders")


def smoke_proxy(bins: Path, work: Path, root: str) -> Path:
    """``kakaclo-sandbox proxy`` in front of the sandbox: one exchange, recorded; the HAR."""
    port, har = free_port(), work / "proxy" / "run.har"
    command = [str(bins / "kakaclo-sandbox"), "proxy", "--upstream", root + "/openapi"]
    command += ["--port", str(port), "--report", str(work / "proxy"), "--record", str(har)]
    process = subprocess.Popen(command, cwd=work, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    banner = process.stderr.readline()  # printed once the port is bound and listening
    try:
        if not banner.startswith("kakaclo proxy"):
            raise CheckFailed(f"kakaclo-sandbox proxy did not start: {banner}")
        url = f"http://127.0.0.1:{port}/openapi/openapi/v2/order/orders/refund/10001"
        request = urllib.request.Request(url, headers={"Authorization": "Bearer demo-token"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read())
        if body.get("code") != 10000:
            raise CheckFailed(f"through the proxy, Query Refund answered {body}")
    finally:
        process.send_signal(2)
        _, said = process.communicate(timeout=60)
    if process.returncode != 0 or "1 exchange(s), 0 error(s)" not in said:
        raise CheckFailed(f"kakaclo-sandbox proxy exited {process.returncode}:\n{said[-2000:]}")
    step("  sandbox: kakaclo-sandbox proxy passed a request on, recorded it, 0 findings")
    return har


def smoke_replay(bins: Path, work: Path, har: Path) -> None:
    """``kakaclo contract --replay`` checks the proxy's recording."""
    said = run([str(bins / "kakaclo"), "contract", "--replay", str(har)], cwd=work)
    if "1 exchange(s) replayed" not in said:
        raise CheckFailed(f"kakaclo contract --replay said:\n{said[-2000:]}")
    step("  contract: kakaclo contract --replay checked the recording")


def smoke_contract(bins: Path, work: Path, root: str) -> None:
    """``kakaclo contract`` against the started sandbox passes."""
    command = [str(bins / "kakaclo"), "contract", "--base-url", root + "/openapi"]
    command += ["--token", "demo-token", "--summary", str(work / "summary.json")]
    command += ["--max-examples", str(CONTRACT_EXAMPLES)]
    run(command, cwd=work)
    summary = json.loads((work / "summary.json").read_text())
    step(
        f"  contract: kakaclo contract against the sandbox {summary.get('outcome')} "
        f"(checked {summary.get('checkedAnswers', {}).get('total')} answers)"
    )


def smoke_postgres(bins: Path, without: Path, work: Path) -> None:
    """``[postgres]``: the sandbox on a PostgreSQL server of the tests' own; ``without``
    (the ``[sandbox]`` install) refuses a postgresql:// URL naming the extra."""
    unreachable = "postgresql://sandbox@127.0.0.1:1/sandbox"
    said = run(
        [str(without / "kakaclo-sandbox"), "--port", str(free_port()), "--db", unreachable],
        cwd=work,
        expect=2,
    ).strip()
    if said.count("\n") or "[postgres]" not in said:
        raise CheckFailed(f"kakaclo-sandbox --db postgresql://... without its extra said: {said!r}")
    step("  postgres: without the extra, a postgresql:// URL is one line naming it")
    sys.path.insert(0, str(ROOT))  # the tests' own server (tests/postgres.py)
    from tests.postgres import running

    server_dir = work / "postgres"
    server_dir.mkdir()
    with running() as server:
        url = server.create_database("wheel_check")
        with started_sandbox(bins, server_dir, db=url) as root:
            smoke_sandbox(root, server_dir)
    step("  postgres: kakaclo-sandbox --db postgresql://... answered the vendor's curl example")


def smoke_all(bins: Path, work: Path) -> None:
    """Every package imports and both commands answer --help."""
    probe = (
        "import kakaclo_refunds, kakaclo_client, kakaclo_sandbox, kakaclo_spec, kakaclo_contract, "
        "kakaclo_proxy"
    )
    run([str(bins / "python"), "-c", probe], cwd=work)
    for command in ("kakaclo", "kakaclo-sandbox"):
        run([str(bins / command), "--help"], cwd=work)
    step("  all: every package imports, both commands answer --help")


def check(work: Path) -> dict[str, object]:
    """Build, install six ways, smoke each; the sizes."""
    dist = work / "dist"
    dist.mkdir()
    sdist, wheel = build(dist)
    bins = {extra: make_venv(work / f"venv-{extra}", wheel, extra) for extra in EXTRAS}
    with started_sandbox(bins["sandbox"], work) as root:
        smoke_sandbox(root, work)
        smoke_base(bins["base"], work, root)
        smoke_cli(bins["cli"], work, root)
        smoke_contract(bins["contract"], work, root)
        har = smoke_proxy(bins["sandbox"], work, root)
    smoke_replay(bins["contract"], work, har)
    smoke_postgres(bins["postgres"], bins["sandbox"], work)
    smoke_all(bins["all"], work)
    sizes = {extra: site_size(work / f"venv-{extra}") for extra in EXTRAS}
    for extra, size in sizes.items():
        step(f"install size {extra:>8}: {size / 1e6:6.1f} MB")
    step(f"base / all: {sizes['base'] / sizes['all']:.1%}")
    return {
        "sdist": sdist.name,
        "wheel": wheel.name,
        "wheelBytes": wheel.stat().st_size,
        "installBytes": sizes,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make wheel-check", description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="kakaclo-wheel-check-"))
    try:
        result = check(work)
    except CheckFailed as failed:
        print(f"wheel-check: FAILED: {failed}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("wheel-check: interrupted", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            step(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(result, indent=2) + "\n")
    step(f"passed; report saved to {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
