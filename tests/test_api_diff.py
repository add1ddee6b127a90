"""make api-diff on throwaway copies of the repository, each with one real edit.

Needs Node (api-smart-diff, installed with npm into .tools): installed here
when npm exists; otherwise the tests skip with one line, and under CI that
skip is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DIFFER = ROOT / ".tools" / "node_modules" / "api-smart-diff"
COPIED = [
    "openapi.yaml",
    "openapi-python-client.yaml",
    "CHANGELOG.md",
    "pyproject.toml",
    "api",
    "tools",
    "generated",
    "src/kakaclo_refunds",
]
Edit = Callable[[dict[str, Any]], None]


def _differ_installed() -> None:
    if DIFFER.is_dir():
        return
    npm = shutil.which("npm")
    if npm:
        subprocess.run(
            [
                npm,
                "install",
                "--silent",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(ROOT / ".tools"),
                "api-smart-diff@1.0.6",
            ],
            check=True,
            timeout=300,
        )
        return
    message = "needs Node.js and npm for api-smart-diff (apt-get install nodejs npm)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _copy(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    for name in COPIED:
        source, target = ROOT / name, repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(source, target)
    (repo / ".tools").symlink_to(ROOT / ".tools")
    _released_as_is(repo)
    return repo


def _released_as_is(repo: Path) -> None:
    """Make the copy's baseline its current state, so each test sees only its own edit."""
    released = repo / "api" / "released"
    shutil.copyfile(repo / "openapi.yaml", released / "openapi.yaml")
    shutil.rmtree(released / "python" / "kakaclo_refunds")
    shutil.copytree(
        repo / "src" / "kakaclo_refunds",
        released / "python" / "kakaclo_refunds",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    log = repo / "CHANGELOG.md"
    unreleased = re.compile(r"^## Unreleased.*?(?=^## )", re.M | re.S)
    log.write_text(unreleased.sub("## Unreleased\n\n", log.read_text(), count=1))


def _api_diff(
    repo: Path, edit: Edit | None, changelog: str = ""
) -> tuple[int, dict[str, Any], str]:
    """Apply ``edit`` to the copy's spec, regenerate its client, run the gate twice (JSON, text)."""
    if edit:
        spec = yaml.safe_load((repo / "openapi.yaml").read_text())
        edit(spec)
        (repo / "openapi.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
        subprocess.run(
            [sys.executable, str(repo / "tools" / "codegen.py"), "generate"],
            check=True,
            capture_output=True,
        )
    if changelog:
        log = repo / "CHANGELOG.md"
        log.write_text(log.read_text().replace("## Unreleased\n", changelog, 1))
    gate = [sys.executable, str(repo / "tools" / "api_diff.py")]
    as_json = subprocess.run([*gate, "--json"], capture_output=True, text=True, check=False)
    text = subprocess.run(gate, capture_output=True, text=True, check=False)
    assert as_json.returncode == text.returncode, text.stdout + text.stderr
    return text.returncode, json.loads(as_json.stdout), text.stdout + text.stderr


def _remark_required(spec: dict[str, Any]) -> None:
    spec["components"]["schemas"]["RefundRequest"]["required"] = ["remark"]


def _drop_error_code(spec: dict[str, Any]) -> None:
    spec["components"]["schemas"]["ErrorCode"]["enum"].remove(40912)
    names = spec["components"]["schemas"]["ErrorCode"]["x-enum-varnames"]
    names.remove("IDEMPOTENCY_REQUEST_IN_FLIGHT")


def _remove_response_field(spec: dict[str, Any]) -> None:
    del spec["components"]["schemas"]["Refund"]["properties"]["remark"]


def _narrow_page_size(spec: dict[str, Any]) -> None:
    spec["components"]["parameters"]["PageSize"]["schema"]["maximum"] = 100


def _add_optional_field(spec: dict[str, Any]) -> None:
    spec["components"]["schemas"]["Order"]["properties"]["note"] = {
        "type": ["string", "null"],
        "description": "A note.",
    }


def _add_operation(spec: dict[str, Any]) -> None:
    spec["paths"]["/openapi/v2/order/notes"] = {
        "get": {
            "operationId": "queryNotes",
            "tags": ["Orders"],
            "summary": "Query Notes",
            "description": "Notes.",
            "responses": {"401": {"$ref": "#/components/responses/Unauthorized"}},
        }
    }


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    _differ_installed()
    return _copy(tmp_path)


def test_the_current_state_is_the_baseline(repo: Path) -> None:
    code, data, text = _api_diff(repo, None)
    assert code == 0, text
    assert data["changes"] == []
    assert "no change to the spec or the Python API" in text


@pytest.mark.parametrize(
    ("edit", "subject", "python_words"),
    [
        (_remark_required, "RefundRequest.required + remark", None),
        (_drop_error_code, "ErrorCode.enum - 40912", "IDEMPOTENCY_REQUEST_IN_FLIGHT"),
        (_remove_response_field, "Refund.remark removed", "Refund"),
        (_narrow_page_size, "PageSize.maximum: 250 -> 100", None),
    ],
    ids=["remark-required", "error-code-dropped", "response-field-removed", "parameter-narrowed"],
)
def test_breaking_edits_fail_with_the_lines_to_add(
    repo: Path, edit: Edit, subject: str, python_words: str | None
) -> None:
    code, data, text = _api_diff(repo, edit)
    assert code == 1, text
    spec = [(c["kind"], c["subject"]) for c in data["changes"] if c["level"] == "spec"]
    assert spec == [("breaking", subject)], spec  # one line a person would name, deduplicated
    assert f"- BREAKING: {subject}" in text
    assert "write the heading as '## Unreleased (0.2.0)'" in text
    if python_words:
        python = [c for c in data["changes"] if c["level"] == "python"]
        assert any(python_words in c["subject"] for c in python), python


@pytest.mark.parametrize(
    ("edit", "subject"),
    [
        (_add_optional_field, "Order.note added"),
        (_add_operation, "GET /openapi/v2/order/notes added"),
    ],
    ids=["optional-field-added", "operation-added"],
)
def test_non_breaking_edits_are_listed_and_pass(repo: Path, edit: Edit, subject: str) -> None:
    code, data, text = _api_diff(repo, edit)
    assert code == 0, text
    assert [(c["kind"], c["subject"]) for c in data["changes"]] == [("non-breaking", subject)]
    assert subject in text and "api-diff: ok" in text


def test_a_declared_breaking_edit_passes(repo: Path) -> None:
    declared = "## Unreleased (0.2.0)\n\n- BREAKING: RefundRequest.required + remark\n"
    code, _, text = _api_diff(repo, _remark_required, declared)
    assert code == 0, text


def test_a_declared_breaking_edit_with_a_patch_version_fails(repo: Path) -> None:
    declared = "## Unreleased (0.1.1)\n\n- BREAKING: RefundRequest.required + remark\n"
    code, _, text = _api_diff(repo, _remark_required, declared)
    assert code == 1
    assert "needs the next version to be at least 0.2.0" in text


def test_release_moves_the_baseline(repo: Path) -> None:
    declared = "## Unreleased (0.2.0)\n\n- BREAKING: RefundRequest.required + remark\n"
    _api_diff(repo, _remark_required, declared)
    done = subprocess.run(
        [sys.executable, str(repo / "tools" / "api_diff.py"), "release"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (repo / "api" / "released" / "VERSION").read_text().strip() == "0.2.0"
    assert 'version = "0.2.0"' in (repo / "pyproject.toml").read_text()
    assert "  version: 0.2.0" in (repo / "openapi.yaml").read_text()
    assert "## Unreleased\n\n## 0.2.0 (" in (repo / "CHANGELOG.md").read_text()
    code, data, text = _api_diff(repo, None)
    assert code == 0, text
    assert data["changes"] == []
