"""examples/typescript/: openapi-typescript types and an openapi-fetch flow, run by node's test
runner against a fresh sandbox.

Installs the example's pinned packages into ``examples/typescript/node_modules``
(git-ignored; only when one is missing or at another version), then runs the
example's own npm scripts as its README says: ``generate`` (openapi.yaml to
``src/schema.d.ts``), ``build`` (tsc, strict) and ``test`` (``node --test``)
with ``KAKACLO_BASE_URL`` and ``KAKACLO_TOKEN`` pointing at the sandbox.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from peers.conftest import ROOT, SandboxFactory, need, run
from tests.tools import missing

EXAMPLE = ROOT / "examples" / "typescript"
INSTALL_SECONDS = 600
STEP_SECONDS = 120


def _pinned() -> dict[str, str]:
    manifest = json.loads((EXAMPLE / "package.json").read_text())
    return {**manifest["dependencies"], **manifest["devDependencies"]}


def _missing_packages() -> list[str]:
    """The pinned packages not in node_modules at their pinned version."""
    wrong = []
    for name, version in _pinned().items():
        installed = EXAMPLE / "node_modules" / name / "package.json"
        if not installed.exists() or json.loads(installed.read_text())["version"] != version:
            wrong.append(f"{name}@{version}")
    return wrong


def _npm(*args: str, env: dict[str, str] | None = None, timeout: float = STEP_SECONDS) -> str:
    """``npm ARGS`` in the example (bounded); fails the test with its output on an error."""
    npm = shutil.which("npm")
    if npm is None:
        missing("needs Node.js 20 and npm (apt-get install nodejs npm)")
    ran = run([npm, *args], cwd=EXAMPLE, env=env, timeout=timeout)
    assert ran.code == 0, f"npm {' '.join(args)}:\n{ran.output[-3000:]}"
    return ran.output


@pytest.fixture(scope="module")
def installed() -> None:
    need("npm")
    if _missing_packages():
        _npm("install", "--no-audit", "--no-fund", timeout=INSTALL_SECONDS)
    assert not _missing_packages(), _missing_packages()


def test_what_npm_and_the_generator_write_is_ignored_by_git() -> None:
    paths = ["node_modules/x", "dist/refund.test.js", "src/schema.d.ts"]
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", *paths],
        cwd=EXAMPLE,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout.split() == paths, done.stdout + done.stderr
    tracked = subprocess.run(
        ["git", "ls-files", "--", "."], cwd=EXAMPLE, capture_output=True, text=True, check=True
    )
    assert "src/schema.d.ts" not in tracked.stdout.split()


def test_the_example_generates_compiles_and_passes_against_a_sandbox(
    installed: None, sandbox: SandboxFactory
) -> None:
    (EXAMPLE / "src" / "schema.d.ts").unlink(missing_ok=True)
    shutil.rmtree(EXAMPLE / "dist", ignore_errors=True)
    _npm("run", "generate")
    schema = (EXAMPLE / "src" / "schema.d.ts").read_text()
    assert '"/openapi/v2/order/orders/{id}/refund"' in schema
    _npm("run", "build")
    assert (EXAMPLE / "dist" / "refund.test.js").exists()
    live = sandbox()
    env = {"KAKACLO_BASE_URL": live.base_url, "KAKACLO_TOKEN": "demo-token"}
    output = _npm("test", env=env)
    assert "# pass 2" in output and "# fail 0" in output, output[-3000:]
