"""make mutation: the contract suite's mutation score over the modules that carry the refund rules.

Runs ``mutmut run`` (configured in pyproject's ``[tool.mutmut]``: the suite
alone, each mutant against the suite tests that reach its function) for at
most ``--max-seconds``; mutmut keeps its results in ``mutants/``, so a run that
hits the bound resumes where it stopped. Then it counts killed, survived and
timed-out mutants, leaves out those reviewed as equivalent
(``tools/mutation-equivalent.yaml``, each with its reason, and the survivors
that only change the letter case of SQL text or of a column name, which SQLite
and ``sqlite3.Row`` read without regard to case), prints every other survivor,
writes ``reports/mutation.json`` and fails below ``--goal``.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
EQUIVALENT = ROOT / "tools" / "mutation-equivalent.yaml"
REPORT = ROOT / "reports" / "mutation.json"
DETECTED = {"killed", "timeout", "caught by type check"}


def run_mutmut(max_seconds: float, children: int) -> bool:
    """Run mutmut until it finishes or the time is up; True when it finished."""
    command = [str(Path(sys.executable).parent / "mutmut"), "run", "--max-children", str(children)]
    process = subprocess.Popen(command, cwd=ROOT, start_new_session=True)
    deadline = time.monotonic() + max_seconds
    try:
        while process.poll() is None:
            if time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=60)
                print(f"\nmutation: stopped after {max_seconds:g} s; run it again to go on")
                return False
            time.sleep(1)  # polling a child process, not timing a test
    except KeyboardInterrupt:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        raise
    if process.returncode != 0:
        raise SystemExit(f"mutation: mutmut run exited {process.returncode}")
    return True


def statuses() -> dict[str, str]:
    """Each mutant's status, read from mutmut's results in mutants/."""
    from mutmut.stats import status_by_exit_code

    found: dict[str, str] = {}
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        data = json.loads(meta.read_text())
        for name, exit_code in data.get("exit_code_by_key", {}).items():
            found[name] = status_by_exit_code[exit_code]
    return found


def equivalents() -> dict[str, str]:
    """Mutants reviewed as equivalent: name -> why no test can tell them apart."""
    if not EQUIVALENT.exists():
        return {}
    entries = yaml.safe_load(EQUIVALENT.read_text()) or {}
    return {str(name): str(why) for name, why in entries.items()}


# SQL text: a statement or a clause (it may follow the ")" of an f-string part), or a
# condition with a placeholder; never one with a quoted literal, whose case matters.
SQL_TEXT = re.compile(
    r"^[\s(),]*(select|insert|update|delete|where|and|or|order by|from|limit|values|"
    r"on conflict)\b|\?",
    re.I,
)
CASE_ONLY = (
    "only the letter case of SQL text or of a column name changes; SQLite and sqlite3.Row "
    "read both without regard to case"
)


def schema_names() -> set[str]:
    """Table and column names of the sandbox's schema (lower case)."""
    from kakaclo_sandbox.storage.schema import SCHEMA

    columns = re.findall(r"^\s*(\w+)\s+(?:TEXT|INTEGER|REAL)", SCHEMA, re.M)
    tables = re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", SCHEMA)
    return {name.lower() for name in [*columns, *tables]}


def _strings(node: ast.AST) -> list[ast.Constant]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _is_subscript_key(tree: ast.AST, node: ast.Constant) -> bool:
    return any(isinstance(n, ast.Subscript) and n.slice is node for n in ast.walk(tree))


def case_only(original: ast.AST, mutant: ast.AST, names: set[str]) -> bool:
    """True when the mutant differs from the original only in the letter case of one string
    that is SQL text or a schema name."""
    before, after = _strings(original), _strings(mutant)
    if len(before) != len(after):
        return False
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a.value != b.value]
    if len(changed) != 1:
        return False
    old, new = changed[0]
    text = str(old.value)
    if text.lower() != str(new.value).lower():
        return False
    is_sql = SQL_TEXT.search(text) is not None and "'" not in text
    if not (is_sql or (text.lower() in names and _is_subscript_key(mutant, new))):
        return False
    mutated = new.value
    new.value = text  # nothing but that string may differ
    try:
        return ast.dump(original) == ast.dump(mutant)
    finally:
        new.value = mutated


def case_only_equivalents(survivors: list[str]) -> dict[str, str]:
    """Which ``survivors`` only change the letter case of SQL text or of a column name."""
    names = schema_names()
    functions: dict[str, dict[str, ast.AST]] = {}
    found: dict[str, str] = {}
    for name in survivors:
        module, _, function = name.rpartition(".")
        source = MUTANTS / "src" / (module.replace(".", "/") + ".py")
        if not source.exists():
            continue
        if module not in functions:
            tree = ast.parse(source.read_text())
            functions[module] = {
                n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)
            }
        defined = functions[module]
        original = defined.get(function.rsplit("__mutmut_", 1)[0] + "__mutmut_orig")
        mutant = defined.get(function)
        if original is None or mutant is None:
            continue
        original_body = ast.Module(body=original.body, type_ignores=[])  # type: ignore[attr-defined]
        mutant_body = ast.Module(body=mutant.body, type_ignores=[])  # type: ignore[attr-defined]
        if case_only(original_body, mutant_body, names):
            found[name] = CASE_ONLY
    return found


def score(found: dict[str, str], equivalent: dict[str, str]) -> dict[str, Any]:
    """Counts and the score (detected / non-equivalent mutants)."""
    counts = Counter(found.values())
    # An entry that names a mutant the suite now detects is out of date (mutmut numbers
    # a function's mutants in order, so a changed function renames them): it is listed
    # as stale, and the mutant it names now may be another one, so it counts as judged.
    stale = sorted(n for n in equivalent if n not in found or found[n] in DETECTED)
    equivalent = {n: why for n, why in equivalent.items() if n not in stale}
    judged = {name: status for name, status in found.items() if name not in equivalent}
    detected = sum(1 for status in judged.values() if status in DETECTED)
    survivors = sorted(name for name, status in judged.items() if status not in DETECTED)
    considered = len(judged)
    return {
        "mutants": len(found),
        "counts": dict(sorted(counts.items())),
        "equivalent": len([n for n in equivalent if n in found]),
        "considered": considered,
        "detected": detected,
        "score": round(detected / considered, 4) if considered else 0.0,
        "survivors": survivors,
        "staleEquivalents": stale,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make mutation", description=__doc__.splitlines()[0])
    parser.add_argument("--max-seconds", type=float, default=3600.0)
    parser.add_argument("--children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--goal", type=float, default=0.9)
    parser.add_argument("--report-only", action="store_true", help="read mutants/, run nothing")
    args = parser.parse_args(argv)
    finished = True
    if not args.report_only:
        finished = run_mutmut(args.max_seconds, args.children)
    found = statuses()
    reviewed = equivalents()
    undecided = [n for n, status in found.items() if status not in DETECTED and n not in reviewed]
    result = score(found, reviewed | case_only_equivalents(undecided))
    result["finished"] = finished
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(result, indent=2) + "\n")
    counts = result["counts"]
    others = {s: n for s, n in counts.items() if s not in ("killed", "survived", "timeout")}
    print(
        f"mutation: {result['mutants']} mutants: killed {counts.get('killed', 0)}, "
        f"survived {counts.get('survived', 0)}, timed out {counts.get('timeout', 0)}"
        + "".join(f", {status} {n}" for status, n in others.items())
    )
    print(
        f"mutation: {result['equivalent']} reviewed as equivalent; {result['detected']} of "
        f"{result['considered']} others detected: {result['score']:.1%} (goal {args.goal:.0%})"
    )
    for name in result["survivors"]:
        print(f"  survived: {name}   (mutmut show {name})")
    for name in result["staleEquivalents"]:
        why = "the suite detects" if name in found else "no longer exists"
        print(f"  {EQUIVALENT.name} names a mutant that {why}; review it again: {name}")
    print(f"mutation: report saved to {REPORT.relative_to(ROOT)}")
    if not finished:
        return 2
    return 0 if result["score"] >= args.goal else 1


if __name__ == "__main__":
    sys.exit(main())
