"""Tools beyond Python that some tests need (tmux, Chromium, openssl), one way for all.

A missing tool is installed with apt-get when the tests run as root and
apt-get exists; otherwise the test skips with one line saying how to get it,
and under CI (``CI`` set) that skip is a failure, so CI always runs it.

Installs are serialised by a file lock and wait for dpkg's own lock: pytest-xdist
workers, or another apt-get on the machine, may ask at the same time.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import NoReturn

import pytest

INSTALL_LOCK = Path(tempfile.gettempdir()) / "kakaclo-tests-apt.lock"
INSTALL_SECONDS = 900  # Chromium is some hundred MB


def missing(message: str) -> NoReturn:
    """Skip with ``message``, or fail under CI, which must run every test."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _apt_get_install(package: str) -> None:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return
    with INSTALL_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker may be installing it right now
        subprocess.run(
            [
                "apt-get",
                "-o",
                f"DPkg::Lock::Timeout={INSTALL_SECONDS}",
                "install",
                "-y",
                "-qq",
                package,
            ],
            capture_output=True,
            timeout=INSTALL_SECONDS,
            check=False,
        )


def require_file(path: str, package: str, what: str) -> str:
    """``path``, installing its Debian ``package`` first when it is missing."""
    if not os.path.exists(path):
        _apt_get_install(package)
    if not os.path.exists(path):
        missing(f"needs {what} (apt-get install {package})")
    return path


def require_command(command: str, package: str, what: str) -> str:
    """The path of ``command``, installing its Debian ``package`` first when it is missing."""
    if shutil.which(command) is None:
        _apt_get_install(package)
    found = shutil.which(command)
    if found is None:
        missing(f"needs {what} (apt-get install {package})")
    return found
