"""The generated client, pointed at the target, with every response audited."""

from __future__ import annotations

import httpx
from kakaclo_client import AuthenticatedClient

from kakaclo_contract.spec_check import ResponseAudit
from kakaclo_contract.target import Target
from kakaclo_contract.traffic import PacedTransport


def generated_client(
    target: Target, audit: ResponseAudit, token: str | None = None
) -> AuthenticatedClient:
    """A ``kakaclo_client.AuthenticatedClient`` for ``target`` (in-process or over HTTP)."""
    client = AuthenticatedClient(
        base_url=target.base_url,
        token=token or target.token,
        raise_on_unexpected_status=True,
        timeout=httpx.Timeout(target.settings.timeout),
        httpx_args={
            "event_hooks": {"response": [audit]},
            **({} if target.in_process else {"transport": PacedTransport(target.traffic)}),
        },
    )
    if target.in_process:
        http = target.http()
        http.base_url = target.base_url
        http.headers["Authorization"] = f"Bearer {token or target.token}"
        http.event_hooks = {"request": [], "response": [audit]}
        client.set_httpx_client(http)
    return client
