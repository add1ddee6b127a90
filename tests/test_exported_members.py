"""The public API: what each package exports is exactly its ``__all__`` (ruff keeps it sorted).

As httpx's ``tests/test_exported_members.py``: a name imported into a package
without being added to ``__all__`` (or listed without existing) fails here, so
nothing becomes public by accident. What changed since the release is make
api-diff's job.
"""

from __future__ import annotations

import types

import pytest

import kakaclo_refunds
import kakaclo_sandbox
import kakaclo_spec

PACKAGES = [kakaclo_refunds, kakaclo_sandbox, kakaclo_spec]
PUBLIC_DUNDERS = {"__version__"}


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_all_names_exactly_the_public_members(package: types.ModuleType) -> None:
    public = [
        name
        for name, value in vars(package).items()
        if (not name.startswith("_") or name in PUBLIC_DUNDERS)
        and not isinstance(value, types.ModuleType)  # submodules are reached by their path
    ]
    assert len(package.__all__) == len(set(package.__all__))
    assert set(package.__all__) == set(public)


def test_the_client_layer_exports_what_the_readme_uses() -> None:
    assert {"KakacloClient", "AsyncKakacloClient", "Item", "RetryPolicy", "Order"} <= set(
        kakaclo_refunds.__all__
    )
    assert {"create_app", "Settings"} <= set(kakaclo_sandbox.__all__)
