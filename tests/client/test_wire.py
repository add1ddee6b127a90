"""The layer's httpx clients build the very URL httpx builds, parsing it once."""

from __future__ import annotations

import asyncio
import functools
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from kakaclo_refunds import KakacloClient
from kakaclo_refunds._wire import AsyncJoinedURLClient, JoinedURLClient, joined_url

BASES = st.sampled_from(
    [
        "http://127.0.0.1:8080/openapi",
        "https://test-developer.kakaclo.com/openapi/",
        "http://[::1]:9/a b/openapi",
        "http://example.com",
    ]
)
SEGMENT = st.sampled_from(["", ".", "..", ".x", "%2E"]) | st.text(max_size=12).map(
    lambda text: quote(text, safe="")
)
PATHS = st.lists(SEGMENT, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts))
PARAMS = st.none() | st.dictionaries(
    st.text(min_size=1, max_size=8),
    st.text(max_size=12) | st.integers() | st.booleans(),
    max_size=4,
)


@functools.cache
def _client(kind: type[httpx.Client | httpx.AsyncClient], base: str) -> Any:
    # one per base: a client builds an SSL context, which costs more than the checks
    return kind(base_url=base)


def _built(client: httpx.Client | httpx.AsyncClient, path: str, params: Any) -> str:
    """The URL a client builds, or the error it refuses the path with."""
    try:
        url = client.build_request("GET", path, params=params).url
    except httpx.InvalidURL as error:
        return f"InvalidURL: {error}"
    return f"{url} {url.raw_path!r}"


@settings(max_examples=300, derandomize=True, database=None)
@given(base=BASES, path=PATHS, params=PARAMS)
def test_the_joined_url_is_httpx_s_url(base: str, path: str, params: Any) -> None:
    expected = _built(_client(httpx.Client, base), path, params)
    assert _built(_client(JoinedURLClient, base), path, params) == expected


@settings(max_examples=100, derandomize=True, database=None)
@given(base=BASES, path=PATHS, params=PARAMS)
def test_the_async_client_joins_alike(base: str, path: str, params: Any) -> None:
    expected = _built(_client(httpx.AsyncClient, base), path, params)
    assert _built(_client(AsyncJoinedURLClient, base), path, params) == expected


def test_other_urls_are_left_to_httpx() -> None:
    base = httpx.URL("http://127.0.0.1:8080/openapi/")
    assert joined_url(base, "http://other.example/x", None) is None
    assert joined_url(base, "relative/x", None) is None
    assert joined_url(base, "/x?a=1", {"b": 2}) is None
    assert joined_url(base, "/x#part", None) is None
    assert joined_url(base, "//x", None) is None
    assert joined_url(base, "/a/../x", None) is None
    assert joined_url(httpx.URL("http://h/p/?q=1"), "/x", None) is None
    assert joined_url(base, "/x", {"a": 1}) == "http://127.0.0.1:8080/openapi/x?a=1"
    with_query = "http://h/p/?q=1"
    assert _built(JoinedURLClient(base_url=with_query), "/x", None) == _built(
        httpx.Client(base_url=with_query), "/x", None
    )
    for path in ("/x?a=1", "//x", "/../x", "/a/./b", "/.."):
        expected = _built(httpx.Client(base_url=base), path, {"b": 2})
        assert _built(JoinedURLClient(base_url=base), path, {"b": 2}) == expected


def _empty_pages(seen: list[httpx.Request]) -> httpx.MockTransport:
    """A server that answers every request with an empty page, noting the request."""

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        page = {"total": 0, "pageNumber": 1, "pageSize": 250, "list": []}
        return httpx.Response(200, json={"code": 10000, "message": "ok", "data": page})

    return httpx.MockTransport(answer)


def test_the_layer_sends_through_a_joining_client_with_the_token() -> None:
    seen: list[httpx.Request] = []
    with KakacloClient(
        token="t-1", base_url="http://sandbox.test/openapi", transport=_empty_pages(seen)
    ) as client:
        assert client.list_refunds("10 01") == []
        http = client._api.get_httpx_client()
    assert isinstance(http, JoinedURLClient)
    assert str(seen[0].url) == (
        "http://sandbox.test/openapi/openapi/v2/order/orders/refund/10%2001"
        "?pageNumber=1&pageSize=250"
    )
    assert seen[0].headers["authorization"] == "Bearer t-1"


def test_the_async_layer_sends_through_a_joining_client() -> None:
    from kakaclo_refunds import AsyncKakacloClient

    seen: list[httpx.Request] = []

    async def main() -> None:
        async with AsyncKakacloClient(
            token="t-2", base_url="http://sandbox.test/openapi", transport=_empty_pages(seen)
        ) as client:
            assert await client.list_refunds("10001") == []
            assert isinstance(client._api.get_async_httpx_client(), AsyncJoinedURLClient)

    asyncio.run(main())
    assert seen[0].url.path == "/openapi/openapi/v2/order/orders/refund/10001"
    assert seen[0].headers["authorization"] == "Bearer t-2"
