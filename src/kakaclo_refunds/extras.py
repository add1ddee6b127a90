"""The optional parts of the distribution, and the one line that names a missing one.

The base install is the generated client and this client layer. The commands
live behind extras (``pip install 'kakaclo-refunds[cli]'`` and so on), so their
entry points come here first: this module imports nothing beyond the standard
library, and a command whose extra is missing says which one and exits 2.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable

DISTRIBUTION = "kakaclo-refunds"
# extra -> the top-level modules it installs (what its code imports)
EXTRAS: dict[str, tuple[str, ...]] = {
    "cli": ("typer", "rich"),
    "sandbox": ("starlette", "uvicorn", "jsonschema_rs", "yaml", "orjson", "markdown_it"),
    "contract": ("schemathesis", "hypothesis", "pytest", "typer", "starlette", "jsonschema_rs"),
}
MISSING_EXTRA_EXIT = 2


def missing(extra: str) -> list[str]:
    """The modules of ``extra`` that are not installed."""
    return [name for name in EXTRAS[extra] if importlib.util.find_spec(name) is None]


def install_hint(command: str, extra: str) -> str:
    """The one line a command prints when its extra is missing."""
    return (
        f"{command} needs the [{extra}] extra of {DISTRIBUTION}: "
        f"pip install '{DISTRIBUTION}[{extra}]'"
    )


def require(command: str, *extras: str, name: str | None = None) -> None:
    """Exit 2 with :func:`install_hint` when one of ``extras`` is not installed.

    ``name`` is the extra to name instead, when the command belongs to a larger
    one that holds those (``kakaclo contract --replay`` needs only the sandbox's
    modules, and its users know it as part of ``[contract]``).
    """
    for extra in extras:
        if missing(extra):
            print(install_hint(command, name or extra), file=sys.stderr)
            raise SystemExit(MISSING_EXTRA_EXIT)


def _entry(module: str, command: str, *extras: str) -> None:
    require(command, *extras)
    main: Callable[[], object] = importlib.import_module(module).main
    main()


def kakaclo() -> None:
    """Entry point of ``kakaclo`` (needs the [cli] extra)."""
    _entry("kakaclo_refunds.cli", "kakaclo", "cli")


def kakaclo_sandbox() -> None:
    """Entry point of ``kakaclo-sandbox`` (needs the [sandbox] extra)."""
    _entry("kakaclo_sandbox.__main__", "kakaclo-sandbox", "sandbox")
