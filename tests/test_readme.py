"""The README stays true: its five-minute tour runs block by block, in order, on one sandbox.

A new user types the tour's blocks in sequence against the sandbox of step 1,
so every step meets the state the steps before it left. The test does the
same, and replaces only what a test machine cannot type as written; each
replacement is in ``REPLACED`` with its reason, and every line it does not run
is in ``NOT_RUN`` with its reason.
"""

from __future__ import annotations

import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.curl import send_curl
from tests.live import LiveSandbox, free_port

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BIN = str(Path(sys.executable).parent)

# The vendor's limit (120 burst, 2 per second) ten times faster, on both sides.
FAST_LIMIT = "120/20"

# Every text of the tour the test replaces, with what it becomes and why.
REPLACED: dict[str, str] = {
    "make serve": (
        "kakaclo-sandbox (what make serve runs) with the default database relative to the "
        "tour's directory, on a free port, and --rate-limit 120/20: the vendor's 2 requests "
        "per second would stretch step 5's paced runs to many minutes, so both sides go ten "
        "times faster"
    ),
    "http://127.0.0.1:8080": "the tour sandbox's root (8080 may be taken where tests run)",
    "https://test-developer.kakaclo.com/openapi": (
        "a vendor URL becomes a local sandbox that is no sandbox to the suite "
        "(--no-control, --rate-limit 120/20): the vendor's test environment needs a real token"
    ),
    "--rate 120/2": "--rate 120/20, the faster limit the test's servers run with",
    "--port 8082": "a free port (8082 may be taken where tests run)",
    "http://127.0.0.1:8081": (
        "the proxy on a free port (its default, 8081, may be taken where tests run; --port added)"
    ),
    ".venv/bin/": "the bin directory of the interpreter running the tests (its venv)",
}

# Every line of the tour the test does not run here, and why.
NOT_RUN: dict[str, str] = {
    "kakaclo contract --base-url http://127.0.0.1:8080/openapi --rate 120/2": (
        "the whole suite against a sandbox over HTTP, paced, takes about five minutes even "
        "at 120/20: contract_tests/test_paced_sandbox.py runs this very line, read from here, "
        "with the faster limit on both sides, by itself (marked alone)"
    ),
}


@dataclass(frozen=True)
class Step:
    title: str
    blocks: list[tuple[str, str]]  # (language, code) in the order they appear

    def code(self, language: str) -> list[str]:
        return [code for lang, code in self.blocks if lang == language]


def tour_steps(text: str = README) -> list[Step]:
    """The tour's steps (``### N. Title``) with their fenced blocks, in order."""
    tour = text.split("## A five-minute tour", 1)[1].split("\n## ", 1)[0]
    steps = []
    for part in re.split(r"^### ", tour, flags=re.M)[1:]:
        title = part.splitlines()[0]
        blocks = re.findall(r"```(\w+)\n(.*?)```", part, flags=re.S)
        steps.append(Step(title, blocks))
    return steps


def commands(block: str) -> list[str]:
    """The block's command lines: continuations joined, comments and blank lines left out."""
    lines = [line.split("  #")[0].split(" #")[0].strip() for line in block.splitlines()]
    joined = "\n".join(lines).replace("\\\n", " ")
    return [line for line in joined.splitlines() if line and not line.startswith("#")]


def test_readme_starts_with_the_two_commands() -> None:
    first = re.findall(r"```sh\n(.*?)```", README, flags=re.S)[0]
    assert [line.split("#")[0].strip() for line in first.splitlines()] == [
        "make contract",
        "make test",
    ]


def test_the_tour_has_its_six_steps_in_order() -> None:
    titles = [step.title for step in tour_steps()]
    assert [title.split(".")[0] for title in titles] == ["1", "2", "3", "4", "5", "6"], titles
    first = commands(tour_steps()[0].code("sh")[0])
    assert first == ["make serve"], "step 1 is the one command that starts the tour's sandbox"


def test_the_replacements_and_skips_name_lines_the_tour_has() -> None:
    tour = "\n".join(code for step in tour_steps() for _, code in step.blocks)
    for text in REPLACED:
        assert text in tour, text
    for line in NOT_RUN:
        assert line in tour.replace("\\\n", " "), line


@pytest.fixture
def tour_dir(tmp_path: Path) -> Path:
    """The user's working directory: where .sandbox/ and reports/ land."""
    return tmp_path / "tour"


@pytest.fixture
def tour_sandbox(tour_dir: Path) -> Iterator[LiveSandbox]:
    """Step 1: ``make serve``, i.e. kakaclo-sandbox with its default database, here."""
    (tour_dir / ".sandbox").mkdir(parents=True)
    live = LiveSandbox(
        db=tour_dir / ".sandbox" / "sandbox.db", args=["--rate-limit", FAST_LIMIT]
    ).start()
    yield live
    live.stop()


def _bash(script: str, cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", script + "\n"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def test_the_tour_runs_in_order_on_one_sandbox(
    tour_sandbox: LiveSandbox,
    tour_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox = tour_sandbox
    steps = tour_steps()

    def local(text: str) -> str:
        return text.replace("http://127.0.0.1:8080", sandbox.root).replace(".venv/bin/", BIN + "/")

    # 2. the vendor's curl example: refunds a piece of each line of 10001
    curls = [c for c in commands(steps[1].code("sh")[0]) if c.startswith("curl")]
    answers = [send_curl(local(c)) for c in curls]
    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
    assert answers[0].json()["data"].isdigit()
    assert answers[1].json()["data"]["list"][0]["refundStatus"] == "pending_review"

    # 3. the client in Python, then the generated client (refunds wait for --settle-after)
    layer, generated = steps[2].code("python")
    exec(local(layer), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("pending_review") or printed[0].startswith("refund_successfully")
    assert "refund_successfully" in printed
    assert len([line for line in printed if line.startswith("100")]) == 10
    assert printed[-1].startswith("40904 orderItems[0]: quantity 9 exceeds")
    exec(local(generated), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("200 RefundOrderResponse("), printed
    assert "refund_successfully" in printed[1] or "pending_review" in printed[1]

    # 4. the CLI: every line but the last, then the last (a second sandbox) on its own
    cli = steps[3].code("sh")[0]
    *lines, second = cli.strip().splitlines()
    assert "kakaclo sandbox" in second
    done = _bash(local("\n".join(lines)), tour_dir, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "error" not in done.stderr, done.stderr
    assert "refund_successfully" in done.stdout and "refund_failed" in done.stdout
    assert "\n3\n" in done.stdout  # the [fail] refund's exit status, echoed by the tour
    argv = shlex.split(local(commands(second)[0]).replace("--port 8082", f"--port {free_port()}"))
    port = argv[argv.index("--port") + 1]
    other = subprocess.Popen(argv, cwd=tour_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        LiveSandbox.wait_for(f"http://127.0.0.1:{port}/_sandbox/info", other)
        info = httpx.get(f"http://127.0.0.1:{port}/_sandbox/info").json()["data"]
        other.send_signal(signal.SIGINT)
        other.communicate(timeout=30)
    finally:
        if other.poll() is None:
            other.kill()
            other.communicate()
    assert other.returncode == 130  # Ctrl-C, as the tour stops it
    assert info["settings"]["settleAfterSeconds"] == 2, info
    assert info["settings"]["db"].endswith("second.db"), info

    # 5. the contract suite: export, the sandbox line (NOT_RUN), the vendor's two lines
    runs = commands(steps[4].code("sh")[0])
    assert runs[0] == "export KAKACLO_TOKEN=demo-token"
    vendor = [c for c in runs if "kakaclo.com" in c]
    skipped = [c for c in runs[1:] if c not in vendor]
    assert len(skipped) == len(NOT_RUN), skipped
    assert all(any(line in command for line in NOT_RUN) for command in skipped), skipped
    vendor_like = LiveSandbox(
        db=tmp_path / "vendor.db",
        args=["--no-control", "--rate-limit", FAST_LIMIT, "--log-level", "warning"],
    ).start(probe="/openapi/openapi/v2/order/orders")
    try:
        for command in vendor:
            script = local(command).replace(
                "https://test-developer.kakaclo.com/openapi", vendor_like.base_url
            )
            script = script.replace("--rate 120/2", f"--rate {FAST_LIMIT}")
            run = _bash(f"{runs[0]}\n{script}", tour_dir, timeout=300)
            assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
            assert "kakaclo contract: passed (exit 0)" in run.stdout
            if "--allow-refunds" in command:
                assert run.stdout.count("refund created: order 10007") == 2
                assert (tour_dir / "reports" / "vendor.xml").exists()
            else:
                assert "mode read-only" in run.stdout
    finally:
        vendor_like.stop()

    # 6. the validating proxy in front of the tour's sandbox
    proxy_block = commands(steps[5].code("sh")[0])
    start, curl, stop, replay = proxy_block
    assert start.endswith("&") and stop.startswith("kill -INT %1")
    proxy_port = free_port()
    proxy = subprocess.Popen(
        [*local(start.rstrip(" &")).split(), "--port", str(proxy_port)],
        cwd=tour_dir,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proxy.stderr is not None
    try:
        assert proxy.stderr.readline().startswith("kakaclo proxy")  # bound and listening
        answer = send_curl(curl.replace("http://127.0.0.1:8081", f"http://127.0.0.1:{proxy_port}"))
        assert answer.status_code == 200 and answer.json()["code"] == 10000
        proxy.send_signal(signal.SIGINT)
        _, err = proxy.communicate(timeout=30)
    finally:
        if proxy.poll() is None:  # a failed step above: never leave the proxy running
            proxy.kill()
            proxy.communicate()
    assert proxy.returncode == 0, err
    assert "1 exchange(s), 0 error(s), 0 warning(s)" in err
    for name in ("findings.ndjson", "junit.xml", "summary.json", "run.har"):
        assert (tour_dir / "reports" / "proxy" / name).exists()
    replayed = _bash(local(replay), tour_dir, timeout=120)
    assert replayed.returncode == 0, replayed.stderr
    assert "1 exchange(s) replayed" in replayed.stderr


# The docs pages' shell and Python blocks: each is run by a test here, or named with the
# reason it is not. A new block fails test_every_docs_block_is_run_or_named until it is one.
DOCS = ROOT / "docs"
DOCS_RUN: dict[tuple[str, str], str] = {
    ("sandbox.md", 'curl -i -H "Prefer: code=503'): "test_docs_failures_on_demand_run",
}
DOCS_NOT_RUN: dict[tuple[str, str], str] = {
    ("sandbox.md", "PG=/usr/lib/postgresql/15/bin"): (
        "run by tests/sandbox/test_postgres_docs.py, which reads it from the page (it needs "
        "PostgreSQL's binaries and the postgres user under root)"
    ),
    ("install.md", "make contract"): (
        "the two commands themselves: CI runs both (.ci/run), and make test would run this "
        "test inside itself"
    ),
    ("spec.md", "make generate"): (
        "make targets of the checkout: make generate rewrites generated/, which a test must "
        "never do; check-generated and lint run in make lint (CI)"
    ),
    ("spec.md", "make api-diff"): (
        "make api-diff runs in make lint (CI); make release moves the released baseline, "
        "which a test must never do"
    ),
}


def docs_blocks() -> list[tuple[str, str, str]]:
    """(page, language, code) of every sh, bash and python block of docs/."""
    found = []
    for page in sorted(DOCS.rglob("*.md")):
        text = page.read_text()
        for language, code in re.findall(r"```(\w*)\n(.*?)```", text, flags=re.S):
            if language in ("sh", "bash", "python"):
                found.append((str(page.relative_to(DOCS)), language, code))
    return found


def _docs_block(page: str, start: str) -> str:
    return next(c for p, _, c in docs_blocks() if p == page and c.startswith(start))


def test_every_docs_block_is_run_or_named() -> None:
    keys = set(DOCS_RUN) | set(DOCS_NOT_RUN)
    blocks = docs_blocks()
    assert blocks, "docs/ has shell blocks"
    for page, _, code in blocks:
        assert any(p == page and code.startswith(s) for p, s in keys), (page, code[:80])
    for page, start in keys:
        assert any(p == page and c.startswith(start) for p, _, c in blocks), (page, start)
    assert set(DOCS_RUN.values()) <= set(globals()), "each run block names its test"


def test_docs_failures_on_demand_run(tmp_path: Path) -> None:
    live = LiveSandbox(db=tmp_path / "failures.db", args=["--rate-limit", "off"]).start()
    try:
        block = _docs_block("sandbox.md", 'curl -i -H "Prefer: code=503')
        first, second = [
            send_curl(c.replace("http://127.0.0.1:8080", live.root)) for c in commands(block)
        ]
        refunds = [
            httpx.post(
                live.base_url + "/openapi/v2/order/orders/10007/refund",
                json={},
                headers={"Authorization": "Bearer demo-token"},
            )
            for _ in range(3)
        ]
    finally:
        live.stop()
    assert first.status_code == 503 and first.headers["retry-after"] == "2"
    assert first.headers["preference-applied"] == "code=503, retry-after=2"
    assert second.status_code == 200, second.text
    # the next 2 Refund Order calls answer 503, the third is carried out
    assert [r.status_code for r in refunds] == [503, 503, 200]


def test_docs_data_file_example_loads(tmp_path: Path) -> None:
    page = (DOCS / "sandbox.md").read_text()
    data = re.findall(r"```yaml\n(.*?)```", page, flags=re.S)[0]
    (tmp_path / "my-orders.yaml").write_text(data)
    live = LiveSandbox(
        db=tmp_path / "data.db", args=["--data", str(tmp_path / "my-orders.yaml")]
    ).start()
    try:
        answer = httpx.get(
            live.base_url + "/openapi/v2/order/orders",
            params={"ids": "5001"},
            headers={"Authorization": "Bearer my-token"},
        )
    finally:
        live.stop()
    order = answer.json()["data"]["list"][0]
    assert answer.status_code == 200 and order["id"] == "5001"
    assert order["refundStatus"] == "partial_refund"  # its settled refund, through the rules
