"""Run parts of the contract suite in a child pytest (meta-tests and mode tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from contract_tests.planted import FAULT_ENV
from kakaclo_contract.settings import APP_ENV

ROOT = Path(__file__).resolve().parent.parent


def run_suite(modules: list[str], env: dict[str, str], *, stop_at_first: bool = False) -> str:
    """Run ``modules`` with ``env`` added (any inherited planted fault or app removed).

    Returns the child's output, prefixed by its exit status as ``exit N``.
    """
    inherited = {k: v for k, v in os.environ.items() if k not in {FAULT_ENV, APP_ENV}}
    child_env = inherited | env
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    done = subprocess.run(
        [*command, *(["-x"] if stop_at_first else []), *modules],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    return f"exit {done.returncode}\n{done.stdout}{done.stderr}"
