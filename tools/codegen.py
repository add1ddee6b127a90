"""Regenerate generated/kakaclo_client from openapi.yaml, or check that it is current.

    python tools/codegen.py generate   # rewrite generated/kakaclo_client
    python tools/codegen.py check      # exit 1 with a unified diff on drift

The one regeneration command, in the manner of openapi-python-client's
regen_golden_record.py: generation always runs into a fresh temporary folder
with the formatter hooks fixed in openapi-python-client.yaml, so the output
does not depend on where it is written.
"""

from __future__ import annotations

import difflib
import filecmp
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi.yaml"
CONFIG = ROOT / "openapi-python-client.yaml"
PACKAGE = "kakaclo_client"
TARGET = ROOT / "generated" / PACKAGE
IGNORED = {"__pycache__", ".ruff_cache"}


def generate_into(out_dir: Path, spec: Path = SPEC) -> Path:
    """Run the pinned generator on ``spec`` into ``out_dir/kakaclo_client``; return that path."""
    package_dir = out_dir / PACKAGE
    bin_dir = str(Path(sys.executable).parent)
    # The post hooks call `ruff`; it must be the venv's pinned one.
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    result = subprocess.run(
        [
            os.path.join(bin_dir, "openapi-python-client"),
            "generate",
            "--path",
            str(spec),
            "--config",
            str(CONFIG),
            "--meta",
            "none",
            "--output-path",
            str(package_dir),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    if result.returncode != 0 or "Warning" in output or "Error" in output:
        raise SystemExit(f"openapi-python-client failed or warned:\n{output}")
    for leftover in IGNORED:
        shutil.rmtree(package_dir / leftover, ignore_errors=True)
    (package_dir / "spec_facts.py").write_text(spec_facts(spec))
    return package_dir


def _constant(operation_id: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).upper()


def spec_facts(spec: Path) -> str:
    """``spec_facts.py``: what the spec says that the generated models do not carry."""
    document = yaml.safe_load(spec.read_text(encoding="utf-8"))
    lines = [
        '"""Facts of openapi.yaml that the generated models do not carry.',
        "",
        "Written by tools/codegen.py with the rest of this package; never edit by hand.",
        '"""',
        "",
        "from typing import NamedTuple",
        "",
        "",
        "class Operation(NamedTuple):",
        '    """One operation of the spec."""',
        "",
        "    operation_id: str",
        "    method: str",
        "    path: str",
        "",
        "",
        f"SERVER_ROOT = {urlsplit(document['servers'][0]['url']).path.rstrip('/')!r}",
    ]
    names = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "operationId" in operation:
                name = _constant(operation["operationId"])
                names.append(name)
                lines.append(
                    f"{name} = Operation({operation['operationId']!r}, "
                    f"{method.upper()!r}, {path!r})"
                )
    lines.append(f"OPERATIONS = ({', '.join(names)},)")
    parameters = document["components"].get("parameters", {})
    for parameter in parameters.values():
        schema = parameter.get("schema", {})
        for fact in ("default", "maximum"):
            if isinstance(schema.get(fact), int):
                lines.append(f"{_constant(parameter['name'])}_{fact.upper()} = {schema[fact]!r}")
    # patterns named by the component (OrderId: ORDER_ID_PATTERN): its name, "id", says less
    for key, parameter in parameters.items():
        pattern = parameter.get("schema", {}).get("pattern")
        if isinstance(pattern, str):
            lines.append(f"{_constant(key)}_PATTERN = {pattern!r}")
    schemas = document["components"]["schemas"]
    reason = schemas["RefundRequest"]["properties"]["refundReason"]
    if "default" not in reason and "$ref" in reason:  # the default may sit on the enum itself
        reason = schemas[reason["$ref"].rsplit("/", 1)[1]]
    lines.append(f"DEFAULT_REFUND_REASON = {reason['default']!r}")
    limit = document["components"]["responses"].get("TooManyRequests", {}).get("x-rate-limit")
    if limit is not None:  # a spec older than the extension has none
        lines.append(f"RATE_LIMIT_BURST = {int(limit['burst'])!r}")
        lines.append(f"RATE_LIMIT_PER_SECOND = {float(limit['perSecond'])!r}")
    return "\n".join(lines) + "\n"


def _walk(cmp: filecmp.dircmp[str], rel: Path) -> Iterator[tuple[str, Path]]:
    for name in sorted(cmp.left_only):
        if name not in IGNORED:
            yield "only in generated/ (not produced by the spec)", rel / name
    for name in sorted(cmp.right_only):
        if name not in IGNORED:
            yield "missing from generated/", rel / name
    for name in sorted(cmp.diff_files + cmp.funny_files):
        yield "differs", rel / name
    for name, sub in sorted(cmp.subdirs.items()):
        if name not in IGNORED:
            yield from _walk(sub, rel / name)


def drift(committed: Path, fresh: Path) -> list[str]:
    """Describe every difference between two package trees, with unified diffs."""
    report: list[str] = []
    cmp = filecmp.dircmp(str(committed), str(fresh), ignore=list(IGNORED))
    for what, rel in _walk(cmp, Path()):
        report.append(f"{what}: {rel}")
        if what == "differs":
            old = (committed / rel).read_text().splitlines(keepends=True)
            new = (fresh / rel).read_text().splitlines(keepends=True)
            report.extend(
                difflib.unified_diff(
                    old, new, f"generated/{PACKAGE}/{rel}", f"from openapi.yaml/{rel}"
                )
            )
    return report


def check() -> int:
    """Return 0 when generated/ is exactly what the spec produces, else print the diff."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate_into(Path(tmp))
        if not TARGET.is_dir():
            print(f"generated/{PACKAGE} is missing: run `make generate`", file=sys.stderr)
            return 1
        report = drift(TARGET, fresh)
    if report:
        print(
            "generated/ differs from what openapi.yaml produces; run `make generate`:",
            file=sys.stderr,
        )
        print(
            "".join(line if line.endswith("\n") else line + "\n" for line in report),
            file=sys.stderr,
        )
        return 1
    print(f"generated/{PACKAGE} matches openapi.yaml")
    return 0


def generate() -> int:
    """Replace generated/kakaclo_client with a fresh generation."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate_into(Path(tmp))
        TARGET.parent.mkdir(parents=True, exist_ok=True)
        staging = TARGET.with_name(PACKAGE + ".new")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(fresh, staging)
        shutil.rmtree(TARGET, ignore_errors=True)
        staging.rename(TARGET)
    print(f"generated/{PACKAGE} regenerated from openapi.yaml")
    return 0


def main(argv: list[str]) -> int:
    """Entry point: ``generate`` or ``check``."""
    commands = {"generate": generate, "check": check}
    if len(argv) != 1 or argv[0] not in commands:
        print("usage: python tools/codegen.py generate|check", file=sys.stderr)
        return 2
    return commands[argv[0]]()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
