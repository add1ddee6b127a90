"""openapi-generator 7.26 (``-g typescript-fetch``): its client from openapi.yaml works.

Generation has no error and only the explained warnings, the output compiles
under ``tsc --strict`` (the pinned typescript 5.9.3, with our
``peers/typescript/tsconfig.json``) together with our program
``peers/typescript/og_flow.ts``, and that program, run with node against a
fresh sandbox, refunds one piece of a demo order, reads the refund and the
order through the generated client, and parses every error the operations
produce (and every other ``ErrorCode``) through the generated ``ModelError``
model with ``code`` as a typed value.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from peers.conftest import ROOT, Ran, SandboxFactory, check_client_flow, npm_tool, run
from peers.test_openapi_generator_python import KNOWN_WARNINGS, generate, warnings_of
from tests.tools import missing

OURS = ROOT / "peers" / "typescript"
# The spec's schema ``Error`` clashes with TypeScript's built-in ``Error``; the generator
# renames the model (once per use it meets) and og_flow.ts imports it by that name.
RENAMED = (
    "Error (model name matches existing language type) cannot be used as a model name. "
    "Renamed to ModelError"
)
NODE_SECONDS = 60


@dataclass
class Build:
    """openapi-generator's output in ``client/`` beside our program, and what tsc said."""

    root: Path
    warnings: set[str]
    tsc: Ran


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    tsc = npm_tool("typescript")
    root = tmp_path_factory.mktemp("og-typescript")
    output = generate("typescript-fetch", root / "client")
    for name in ("tsconfig.json", "og_flow.ts"):
        shutil.copy(OURS / name, root / name)
    return Build(root, warnings_of(output), run([tsc, "--project", "tsconfig.json"], cwd=root))


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        missing("needs Node.js 20 or newer (apt-get install nodejs npm)")
    return node


def test_generation_gives_only_the_explained_warnings(build: Build) -> None:
    known = (*KNOWN_WARNINGS, RENAMED)
    unexplained = {w for w in build.warnings if not any(k in w for k in known)}
    assert not unexplained, unexplained
    assert RENAMED in build.warnings  # the name og_flow.ts uses


def test_the_client_and_our_program_compile_under_strict(build: Build) -> None:
    assert build.tsc.code == 0, build.tsc.output[-3000:]
    assert build.tsc.output.strip() == ""
    options = (build.root / "tsconfig.json").read_text()
    assert '"strict": true' in options and '"client/**/*.ts"' in options
    assert (build.root / "dist" / "client" / "index.js").exists()


def test_the_client_refunds_reads_and_parses_every_error(
    build: Build, sandbox: SandboxFactory
) -> None:
    assert build.tsc.code == 0, build.tsc.output[-3000:]
    live = sandbox()
    program = str(build.root / "dist" / "og_flow.js")
    ran = run([_node(), program, live.base_url, "demo-token"], timeout=NODE_SECONDS)
    assert ran.code == 0, ran.output[-3000:]
    seen = json.loads(ran.output)
    check_client_flow(seen)
    assert seen["notFoundCode"] == 40401  # the 404 through the client's ResponseError
