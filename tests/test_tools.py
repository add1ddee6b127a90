"""The one way tests get tools beyond Python: install, else skip, and under CI fail."""

from __future__ import annotations

import os

import pytest

from tests.tools import require_command, require_file


def test_a_missing_tool_skips_saying_how_to_get_it_and_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)  # not root: nothing is installed
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"needs a tool \(apt-get install no-such"):
        require_command("kakaclo-no-such-command", "no-such-package", "a tool")
    with pytest.raises(pytest.skip.Exception, match="apt-get install no-such-package"):
        require_file("/nonexistent/kakaclo", "no-such-package", "a file")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="apt-get install no-such-package"):
        require_command("kakaclo-no-such-command", "no-such-package", "a tool")


def test_a_present_tool_is_found_without_installing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert require_command("sh", "dash", "a shell").endswith("/sh")
    assert require_file("/bin/sh", "dash", "a shell") == "/bin/sh"
