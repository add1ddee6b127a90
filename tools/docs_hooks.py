"""MkDocs hook: the argparse commands' reference pages, generated from their parsers.

``kakaclo sandbox`` and ``kakaclo proxy`` hand their arguments to argparse
(``kakaclo_sandbox.__main__.build_parser`` and ``kakaclo_proxy.cli.build_parser``),
so mkdocs-typer2 sees only a pass-through command. A page asks for one with a
line of its own::

    <!-- argparse: kakaclo_sandbox.__main__:build_parser kakaclo sandbox -->

(module, function, then the program name to show) and gets the usage line, the
description, a table of the options (flags, default, help, as ``--help`` prints
them) and the epilog. Nothing is written by hand, so the page cannot drift.
"""

from __future__ import annotations

import argparse
import importlib
import re
from typing import Any

MARKER = re.compile(
    r"^<!-- argparse: (?P<target>\S+):(?P<function>\w+) (?P<prog>[^>]+?) -->$", re.M
)


def _cell(text: str) -> str:
    """Text for a Markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _flags(action: argparse.Action) -> str:
    names = ", ".join(f"`{name}`" for name in action.option_strings) or f"`{action.dest}`"
    if action.nargs == 0:
        return names
    metavar = action.metavar or (action.dest.upper() if action.option_strings else None)
    if action.choices is not None:
        metavar = "{" + ",".join(str(choice) for choice in action.choices) + "}"
    return f"{names} `{metavar}`" if metavar and action.option_strings else names


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    if action.help is None or action.help == argparse.SUPPRESS:
        return ""
    formatter = parser._get_formatter()  # argparse's own %(default)s expansion
    return formatter._expand_help(action)


def render(parser: argparse.ArgumentParser) -> str:
    """The parser as Markdown: usage, description, options table, epilog."""
    usage = parser.format_usage().removeprefix("usage: ").strip()
    lines = ["```text", usage, "```", ""]
    if parser.description:
        lines += [parser.description, ""]
    lines += ["| option | meaning |", "|---|---|"]
    for action in parser._actions:  # the parser's own list, in --help's order
        if action.help == argparse.SUPPRESS:
            continue
        if isinstance(action, argparse._SubParsersAction):
            for name in action.choices:
                lines.append(f"| `{name}` | {_cell(action.help or '')} |")
            continue
        lines.append(f"| {_flags(action)} | {_cell(_help(parser, action))} |")
    if parser.epilog:
        lines += ["", _cell(parser.epilog % {"prog": parser.prog})]
    return "\n".join(lines) + "\n"


def _replace(match: re.Match[str]) -> str:
    module = importlib.import_module(match["target"])
    build = getattr(module, match["function"])
    parser: argparse.ArgumentParser = build(prog=match["prog"])
    return render(parser)


def on_page_markdown(markdown: str, **_: Any) -> str:
    """MkDocs event: expand every ``argparse`` marker of a page."""
    return MARKER.sub(_replace, markdown)
