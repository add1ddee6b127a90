"""An https upstream (the vendor's test environment is one): verified against the system's
trust store, which SSL_CERT_FILE can point elsewhere; an unknown certificate is a 502."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
import uvicorn

from tests.proxy.servers import proxy, sandbox_app, serving
from tests.sandbox.conftest import TOKEN_A
from tests.tools import require_command

API = "/openapi/v2/order/orders"


def _openssl() -> str:
    """The openssl command (see tests/tools.py: installed when missing and possible)."""
    return require_command(
        "openssl", "openssl", "the openssl command to make a certificate for the https tests"
    )


def _certificate(directory: Path) -> tuple[Path, Path]:
    openssl = _openssl()
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_an_https_upstream_is_proxied_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = _certificate(tmp_path)
    config = uvicorn.Config(
        sandbox_app(),
        lifespan="on",
        log_level="warning",
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
    )
    with serving(config) as port:
        upstream_url = f"https://127.0.0.1:{port}/openapi"
        with proxy(upstream_url, tmp_path / "untrusted") as untrusting:
            refused = httpx.get(untrusting.base_url + API, headers=TOKEN_A, timeout=10)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        with proxy(upstream_url, tmp_path / "trusted") as trusting:
            answer = httpx.get(trusting.base_url + API, headers=TOKEN_A, timeout=10)
    assert refused.status_code == 502 and "certificate" in refused.json()["message"].lower()
    assert answer.status_code == 200 and answer.json()["data"]["total"] >= 1
    assert trusting.findings == []
