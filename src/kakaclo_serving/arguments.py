"""The command-line conventions both server commands keep: one-line usage errors, a port."""

from __future__ import annotations

import argparse
from typing import NoReturn


def port(text: str) -> int:
    """A TCP port from 1 to 65535, written in ASCII digits."""
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535, not {text!r}")
    return int(text)


class OneLineErrors(argparse.ArgumentParser):
    """Bad usage prints one line (what is wrong and where to look) and exits 2."""

    def error(self, message: str) -> NoReturn:
        """Print ``prog: error: message (see --help)`` and exit 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")
