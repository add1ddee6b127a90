"""make api-diff / make release: the spec change gate.

Compares the working tree with the last release, kept in the repository
(``api/released/``: the spec, the version, and the client layer's source):

- the spec, with api-smart-diff (npm, in ``.tools``), turned into one line
  per change a person would name, deduplicated, and reclassified where
  ``api/diff-rules.yaml`` says the differ is wrong;
- the Python API, with griffe: ``kakaclo_client`` generated from the released
  spec against ``generated/``, and the released ``kakaclo_refunds`` against
  ``src/``.

A breaking change passes only when the CHANGELOG's ``## Unreleased (X.Y.Z)``
section names it and X.Y.Z moves as SemVer asks (in 0.x a breaking change
moves the minor version). Otherwise it exits 1 with the lines to add.

    python tools/api_diff.py [--json | --markdown]
    python tools/api_diff.py release
"""

from __future__ import annotations

import argparse
import datetime
import difflib
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools import codegen

ROOT = Path(__file__).resolve().parent.parent
RELEASED = ROOT / "api" / "released"
RULES = ROOT / "api" / "diff-rules.yaml"
CHANGELOG = ROOT / "CHANGELOG.md"
PYPROJECT = ROOT / "pyproject.toml"
NODE_MODULES = ROOT / ".tools" / "node_modules"
BRIDGE = ROOT / "tools" / "api_diff.cjs"
LAYER = "kakaclo_refunds"
UNRELEASED = re.compile(r"^## Unreleased(?: \((?P<version>\d+\.\d+\.\d+)\))?\s*$", re.M)


PROSE = 60  # a text longer than this, or of several lines, is shown as a diff of its lines
SHOWN_LINES = 8  # changed lines of one text printed in the text output (--json has them all)


@dataclass(frozen=True)
class Change:
    """One change a person would name."""

    level: str  # spec | python
    subject: str  # what changed, the words the CHANGELOG must contain for a breaking one
    kind: str  # breaking | non-breaking | annotation | deprecated | unclassified
    detail: str
    lines: tuple[str, ...] = ()  # a changed text: its removed (-) and added (+) lines


# -- the spec -------------------------------------------------------------------


def _differ(before: Any, after: Any) -> list[dict[str, Any]]:
    if not (NODE_MODULES / "api-smart-diff").is_dir():
        raise SystemExit(
            "api-diff: api-smart-diff is not installed; run make api-diff (it installs it "
            "with npm into .tools)"
        )
    done = subprocess.run(
        ["node", str(BRIDGE)],
        input=json.dumps({"before": before, "after": after}),
        env={**os.environ, "NODE_PATH": str(NODE_MODULES)},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"api-diff: api-smart-diff failed: {done.stderr.strip()[-2000:]}")
    return list(json.loads(done.stdout))


def _rules() -> list[dict[str, Any]]:
    return list(yaml.safe_load(RULES.read_text()) or [])


def _applies(rule: dict[str, Any], diff: dict[str, Any], path: str) -> bool:
    if rule["action"] not in {"any", diff["action"]} or not fnmatch.fnmatch(path, rule["path"]):
        return False
    when = rule.get("when")
    if when is None:
        return True
    before, after = diff.get("before"), diff.get("after")
    if not isinstance(before, (int, float)) or not isinstance(after, (int, float)):
        return False
    return bool(after < before) if when == "smaller" else bool(after > before)


def _subject(path: list[Any], action: str, before: Any, after: Any) -> str:
    """``ErrorCode.enum - 40912``, ``RefundRequest.required + remark``, ``GET /x`` ..."""
    parts = [str(p) for p in path]
    if parts[:1] == ["components"] and len(parts) >= 3:
        name, rest = parts[2], parts[3:]
        skipped = {"properties", "items", "anyOf", "oneOf", "allOf", "schema"}
        words = [p for p in rest if p not in skipped]
        words = [w for w in words if not w.isdigit()]
        where = ".".join([name, *words])
    elif parts[:1] == ["paths"] and len(parts) >= 3:
        where = f"{parts[2].upper()} {parts[1]}" + ("." + ".".join(parts[3:]) if parts[3:] else "")
    else:
        where = ".".join(parts)
    value = after if action == "add" else before
    if action in {"add", "remove"} and isinstance(value, (str, int, float)) and parts[-1].isdigit():
        return f"{where} {'+' if action == 'add' else '-'} {value}"
    if action == "replace" and _is_prose(before, after):
        return f"{where} changed"
    if action == "replace":
        return f"{where}: {json.dumps(before)} -> {json.dumps(after)}"
    return f"{where} {'added' if action == 'add' else 'removed' if action == 'remove' else action}"


def _is_prose(before: Any, after: Any) -> bool:
    """A text a person reads (a description), rather than a value to quote on one line."""
    texts = [value for value in (before, after) if isinstance(value, str)]
    return len(texts) == 2 and any("\n" in text or len(text) > PROSE for text in texts)


def changed_lines(before: str, after: str) -> tuple[str, ...]:
    """The lines of a text that went (``- ...``) and came (``+ ...``), in order."""
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return tuple(
        f"{line[0]} {line[1:]}".rstrip()
        for line in diff
        if line[:1] in {"-", "+"} and not line.startswith(("---", "+++"))
    )


def spec_changes(before: Any, after: Any) -> list[Change]:
    """The spec's changes, one per thing a person would name."""
    diffs = _differ(before, after)
    # Every body and response schema is a $ref to a component: a component's
    # change is repeated under every operation that uses it. Keep the component's.
    diffs = [
        d
        for d in diffs
        if not (d["path"][:1] == ["paths"] and "content" in d["path"] and "schema" in d["path"])
    ]
    kept: dict[tuple[str, str, str, tuple[str, ...]], dict[str, Any]] = {}
    for diff in sorted(diffs, key=lambda d: len(d["path"])):
        key = (
            diff["action"],
            json.dumps(diff.get("before"), sort_keys=True),
            json.dumps(diff.get("after"), sort_keys=True),
            tuple(str(p) for p in diff["path"][-2:]),
        )
        kept.setdefault(key, diff)  # the shortest path: the component itself
    rules = _rules()
    changes: list[Change] = []
    for diff in kept.values():
        path = "/".join(str(p) for p in diff["path"])
        kind = diff["type"]
        for rule in rules:
            if _applies(rule, diff, path):
                kind = rule["type"]
                break
        if kind == "ignored":
            continue
        old, new = diff.get("before"), diff.get("after")
        subject = _subject(diff["path"], diff["action"], old, new)
        prose = diff["action"] == "replace" and _is_prose(old, new)
        lines = changed_lines(str(old), str(new)) if prose else ()
        if any((c.subject, c.kind, c.lines) == (subject, kind, lines) for c in changes):
            continue  # the same text reached by two paths (an anyOf branch and its property)
        changes.append(Change("spec", subject, kind, diff.get("description") or path, lines))
    return sorted(changes, key=lambda c: (c.kind != "breaking", c.subject))


# -- the Python API ---------------------------------------------------------------


def _breakages(package: str, old_dir: Path, new_dir: Path) -> list[Change]:
    import griffe

    old = griffe.load(package, search_paths=[str(old_dir)], resolve_aliases=False)
    new = griffe.load(package, search_paths=[str(new_dir)], resolve_aliases=False)
    return [
        Change("python", f"{b.obj.path}: {b.kind.value}", "breaking", b.explain().strip())
        for b in griffe.find_breaking_changes(old, new)
    ]


def python_changes() -> list[Change]:
    """Breaking changes of the generated client and of the client layer since the release."""
    with tempfile.TemporaryDirectory() as scratch:
        released_client = codegen.generate_into(Path(scratch), RELEASED / "openapi.yaml")
        changes = _breakages("kakaclo_client", released_client.parent, ROOT / "generated")
    return changes + _breakages(LAYER, RELEASED / "python", ROOT / "src")


# -- declared or rejected -----------------------------------------------------------


def released_version() -> str:
    """The version of the last release."""
    return (RELEASED / "VERSION").read_text().strip()


def unreleased_section() -> tuple[str, str | None]:
    """The CHANGELOG's Unreleased text and the version it announces (or None)."""
    text = CHANGELOG.read_text()
    match = UNRELEASED.search(text)
    if match is None:
        raise SystemExit("api-diff: CHANGELOG.md has no '## Unreleased' section")
    rest = text[match.end() :]
    end = re.search(r"^## ", rest, re.M)
    return rest[: end.start() if end else len(rest)], match["version"]


def _parse(version: str) -> tuple[int, int, int]:
    major, minor, patch = (int(p) for p in version.split("."))
    return major, minor, patch


def required_bump(base: str, breaking: bool) -> str:
    """The smallest next version SemVer allows for these changes."""
    major, minor, patch = _parse(base)
    if breaking:
        return f"{major}.{minor + 1}.0" if major == 0 else f"{major + 1}.0.0"
    return f"{major}.{minor}.{patch + 1}"


def problems(changes: list[Change]) -> list[str]:
    """What keeps these changes from passing (empty: they pass)."""
    breaking = [c for c in changes if c.kind == "breaking"]
    if not breaking:
        return []
    section, announced = unreleased_section()
    found = []
    missing = [c for c in breaking if c.subject not in section]
    if missing:
        found.append(
            "breaking changes not declared; add under '## Unreleased' in CHANGELOG.md:\n"
            + "\n".join(f"- BREAKING: {c.subject}" for c in missing)
        )
    base = released_version()
    least = required_bump(base, breaking=True)
    if announced is None or _parse(announced) < _parse(least):
        found.append(
            f"a breaking change needs the next version to be at least {least} (released: "
            f"{base}); write the heading as '## Unreleased ({least})'"
        )
    return found


# -- output ------------------------------------------------------------------------------


def as_text(changes: list[Change], found: list[str]) -> str:
    """For people."""
    lines = [f"api-diff: against release {released_version()}"]
    if not changes:
        lines.append("no change to the spec or the Python API")
    for change in changes:
        lines.append(f"  {change.kind:<12} {change.level:<6} {change.subject}")
        lines.extend(f"      {line}" for line in change.lines[:SHOWN_LINES])
        if len(change.lines) > SHOWN_LINES:
            more = len(change.lines) - SHOWN_LINES
            lines.append(f"      ... {more} more changed lines (--json lists them all)")
    lines.extend(found or ["api-diff: ok"])
    return "\n".join(lines)


def as_markdown(changes: list[Change]) -> str:
    """A fragment for a pull request or the CHANGELOG."""
    if not changes:
        return f"No change to the spec or the Python API since {released_version()}."
    rows = [f"| {c.kind} | {c.level} | `{c.subject}` |" for c in changes]
    return "\n".join(["| class | level | change |", "|---|---|---|", *rows])


# -- release ----------------------------------------------------------------------------------


def release(changes: list[Change]) -> str:
    """Move the baseline: version, spec snapshot, client-layer snapshot, dated CHANGELOG."""
    found = problems(changes)
    if found:
        raise SystemExit("release: fix these first:\n" + "\n".join(found))
    _, announced = unreleased_section()
    breaking = any(c.kind == "breaking" for c in changes)
    version = announced or required_bump(released_version(), breaking)
    pyproject = PYPROJECT.read_text()
    PYPROJECT.write_text(
        re.sub(r'(?m)^version = ".*"$', f'version = "{version}"', pyproject, count=1)
    )
    spec_path = ROOT / "openapi.yaml"
    spec_text = spec_path.read_text()
    spec_path.write_text(
        re.sub(r"(?m)^  version: .*$", f"  version: {version}", spec_text, count=1)
    )
    shutil.copyfile(spec_path, RELEASED / "openapi.yaml")
    shutil.rmtree(RELEASED / "python", ignore_errors=True)
    shutil.copytree(
        ROOT / "src" / LAYER,
        RELEASED / "python" / LAYER,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (RELEASED / "VERSION").write_text(version + "\n")
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    changelog = CHANGELOG.read_text()
    CHANGELOG.write_text(
        UNRELEASED.sub(f"## Unreleased\n\n## {version} ({today})", changelog, count=1)
    )
    return version


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="api-diff", description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", choices=["check", "release"], default="check")
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print JSON")
    shape.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)
    before = yaml.safe_load((RELEASED / "openapi.yaml").read_text())
    after = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    changes = spec_changes(before, after) + python_changes()
    if args.command == "release":
        version = release(changes)
        print(
            f"release: {version}: commit api/, CHANGELOG.md, pyproject.toml, openapi.yaml "
            "and generated/ (make release regenerates it)"
        )
        return 0
    found = problems(changes)
    if args.json:
        print(json.dumps({"changes": [asdict(c) for c in changes], "problems": found}, indent=2))
    elif args.markdown:
        print(as_markdown(changes))
    else:
        print(as_text(changes, found))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
