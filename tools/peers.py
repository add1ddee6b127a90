"""``make peers``: openapi.yaml in the tools integrators already use, proven against a sandbox.

Installs each tool as a pinned package into ``.tools/`` (npm packages into
``.tools/node_modules``, the Python ones into the virtualenv
``.tools/peers-venv``), then runs the proofs in ``peers/`` with pytest. The
tools need Node.js with npm and Java 17 (openapi-generator's and Specmatic's
jars); a tool that cannot be installed here makes its tests skip with one line
saying how to get it, and under CI (``CI`` set) that skip is a failure.

    python tools/peers.py            # install what is missing, then every proof
    python tools/peers.py --install  # only install
    python tools/peers.py -k prism   # extra arguments go to pytest
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools"
NODE_BIN = TOOLS / "node_modules" / ".bin"
PEERS_VENV = TOOLS / "peers-venv"
PEERS_PYTHON = PEERS_VENV / "bin" / "python"

# Pinned: the versions the proofs were written against (brief, third wave).
NPM_PACKAGES = {
    "specmatic": "2.55.1",
    "@stoplight/prism-cli": "5.16.0",
    "@redocly/cli": "2.77.0",
    # for openapi-generator's typescript-fetch output and examples/typescript/
    "typescript": "5.9.3",
}
NPM_COMMANDS = {
    "specmatic": "specmatic",
    "@stoplight/prism-cli": "prism",
    "@redocly/cli": "redocly",
}
NPM_COMMANDS["typescript"] = "tsc"
PIP_PACKAGES = {
    "openapi-generator-cli": "7.26.0",  # bundles the jar, runs it with the machine's Java 17
    "datamodel-code-generator": "0.97.0",
    # what openapi-generator's Python client needs (its requirements.txt) and the models use
    "pydantic": "2.14.4",
    "pydantic-core": "2.50.5",
    "python-dateutil": "4.0.0",
    "urllib3": "2.8.0",
    "typing-extensions": "4.16.0",
    "annotated-types": "0.8.0",
}
INSTALL_SECONDS = 900


class CannotInstall(Exception):
    """A tool cannot be installed here; ``str()`` says what is missing and how to get it."""


def _say(line: str) -> None:
    print(f"make peers: {line}", file=sys.stderr, flush=True)


def java_ok() -> bool:
    """True when Java 17 or newer runs (openapi-generator 7 and Specmatic 2 need it)."""
    if shutil.which("java") is None:
        return False
    done = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
    for word in done.stderr.replace('"', " ").split():
        head = word.split(".")[0]
        if head.isdigit() and "." in word:
            return int(head) >= 17
    return False


def npm_installed(package: str) -> bool:
    """The pinned ``package`` is in ``.tools/node_modules``."""
    manifest = TOOLS / "node_modules" / package / "package.json"
    return manifest.exists() and f'"version": "{NPM_PACKAGES[package]}"' in manifest.read_text()


def install_npm() -> None:
    """The missing pinned npm packages, in one ``npm install`` (npm serialises badly)."""
    wanted = [
        f"{name}@{version}" for name, version in NPM_PACKAGES.items() if not npm_installed(name)
    ]
    if not wanted:
        return
    if shutil.which("npm") is None:
        raise CannotInstall(
            "needs Node.js and npm (apt-get install nodejs npm) for " + ", ".join(wanted)
        )
    _say(f"installing {', '.join(wanted)} into {TOOLS} with npm ...")
    started = time.monotonic()
    done = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(TOOLS), *wanted],
        capture_output=True,
        text=True,
        timeout=INSTALL_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        raise CannotInstall(f"npm install {' '.join(wanted)} failed: {done.stderr.strip()[-400:]}")
    _say(f"npm packages installed in {time.monotonic() - started:.0f} s")


def _pip_versions() -> dict[str, str]:
    done = subprocess.run(
        [str(PEERS_PYTHON), "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=False,
    )
    pairs = (line.split("==", 1) for line in done.stdout.splitlines() if "==" in line)
    return {name.lower().replace("_", "-"): version for name, version in pairs}


def install_pip() -> None:
    """The pinned Python tools in ``.tools/peers-venv`` (apart from the project's own)."""
    if not PEERS_PYTHON.exists():
        _say(f"creating {PEERS_VENV} ...")
        venv.create(PEERS_VENV, with_pip=True)
    have = _pip_versions()
    wanted = [f"{n}=={v}" for n, v in PIP_PACKAGES.items() if have.get(n) != v]
    if not wanted:
        return
    _say(f"installing {', '.join(wanted)} into {PEERS_VENV} with pip ...")
    done = subprocess.run(
        [
            str(PEERS_PYTHON),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *wanted,
        ],
        capture_output=True,
        text=True,
        timeout=INSTALL_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        raise CannotInstall(f"pip install {' '.join(wanted)} failed: {done.stderr.strip()[-400:]}")


def install() -> list[str]:
    """Install every missing tool; return one line per tool that cannot be installed here."""
    problems = []
    for step in (install_npm, install_pip):
        try:
            step()
        except CannotInstall as error:
            problems.append(str(error))
    if not java_ok():
        problems.append(
            "needs Java 17 or newer for openapi-generator and Specmatic "
            "(apt-get install openjdk-17-jre-headless)"
        )
    return problems


def main(argv: list[str]) -> int:
    """Install, then run the proofs in peers/ (arguments go to pytest)."""
    only_install = "--install" in argv
    argv = [a for a in argv if a != "--install"]
    started = time.monotonic()
    for problem in install():
        _say(problem)  # the proofs that need the tool skip (under CI: fail) with this line
    if only_install:
        return 0
    _say(f"tools ready in {time.monotonic() - started:.0f} s; running the proofs in peers/")
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-ra", "peers", *argv]
    status = subprocess.run(command, cwd=ROOT, env=os.environ.copy(), check=False).returncode
    _say(f"done in {time.monotonic() - started:.0f} s (exit {status})")
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
