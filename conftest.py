"""Shared by tests/ and the contract suite: the hypothesis profiles and the suite's plugin."""

from __future__ import annotations

from kakaclo_contract import profiles

profiles.load()

pytest_plugins = ["kakaclo_contract.plugin"]
