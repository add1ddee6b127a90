"""The proxy's HTTP/1.1 client against scripted upstreams: every framing an answer can have,
interim answers, closed and stale connections, garbage, and its timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from kakaclo_proxy.upstream import Answer, Upstream, UpstreamUnavailable, end_to_end

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            head += await reader.readexactly(int(line.split(b":")[1]))
    return head


def _run(script: Script, *calls: tuple[str, bytes], read_timeout: float = 5) -> list[object]:
    """Serve ``script`` on a free port; send ``calls`` (method, body) one after another."""

    async def main() -> list[object]:
        handlers: list[asyncio.Task[None]] = []

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            handlers.append(asyncio.current_task())  # type: ignore[arg-type]
            try:
                await script(reader, writer)
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = Upstream(f"http://127.0.0.1:{port}/openapi", read_timeout=read_timeout)
        results: list[object] = []
        for method, body in calls:
            try:
                results.append(await client.forward(method, "/openapi/x?a=%2F", [], body))
            except UpstreamUnavailable as error:
                results.append(error)
        await client.close()
        server.close()
        await asyncio.gather(*handlers)  # each ends once the client closed its connection
        return results

    return asyncio.run(main())


def _answering(*answers: bytes, close: bool = False) -> Script:
    """Answer each request on a connection with the next of ``answers``."""

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for answer in answers:
            try:
                await _read_request(reader)
            except asyncio.IncompleteReadError:
                break
            writer.write(answer)
            await writer.drain()
        if close:
            writer.close()
        else:
            await reader.read()  # until the client closes

    return script


def test_content_length_chunked_and_read_until_close_bodies_arrive_whole() -> None:
    length = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello"
    chunked = (
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    )
    first, second = _run(_answering(length, chunked), ("GET", b""), ("POST", b"{}"))
    assert first == Answer(200, [("Content-Length", "5"), ("X-A", "1")], b"hello")
    assert isinstance(second, Answer) and (second.status, second.body) == (201, b"abcde")
    until_close = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it"
    (answer,) = _run(_answering(until_close, close=True), ("GET", b""))
    assert isinstance(answer, Answer) and answer.body == b"all of it"


def test_interim_answers_are_skipped_and_head_and_204_have_no_body() -> None:
    interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    (answer,) = _run(_answering(interim), ("POST", b"x"))
    assert isinstance(answer, Answer) and (answer.status, answer.body) == (200, b"ok")
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"
    no_content = b"HTTP/1.1 204 No Content\r\n\r\n"
    heads = _run(_answering(head, close=True), ("HEAD", b""))
    assert isinstance(heads[0], Answer) and heads[0].body == b""
    (empty,) = _run(_answering(no_content), ("DELETE", b""))
    assert isinstance(empty, Answer) and (empty.status, empty.body) == (204, b"")


def test_the_request_goes_out_as_the_client_sent_it_minus_hop_by_hop_headers() -> None:
    seen: list[bytes] = []

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await _read_request(reader))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(script, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = Upstream(f"http://127.0.0.1:{port}/openapi")
        headers = [
            ("Host", "proxy:8081"),
            ("Connection", "x-hop"),
            ("X-Hop", "1"),
            ("Content-Length", "999"),
            ("X-Kept", "a"),
        ]
        await client.forward("POST", "/openapi/a%2Fb?q=%20", headers, b"{}")
        await client.close()
        server.close()

    asyncio.run(main())
    request = seen[0].decode()
    assert request.startswith("POST /openapi/a%2Fb?q=%20 HTTP/1.1\r\nHost: 127.0.0.1:")
    assert "X-Hop" not in request and "Connection" not in request and "999" not in request
    assert "X-Kept: a\r\n" in request and "Content-Length: 2\r\n" in request
    assert request.endswith("Via: 1.1 kakaclo-proxy\r\n\r\n{}")


def test_a_stale_kept_alive_connection_is_retried_only_for_safe_methods() -> None:
    async def one_answer_per_connection(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na")
        await writer.drain()
        try:
            await _read_request(reader)  # a second request on the kept-alive connection
        except asyncio.IncompleteReadError:
            return  # or the client closed it first, at the end
        writer.transport.abort()  # dropped without a word, as an upstream's idle timeout does

    get_first, get_again, post, get_last = _run(
        one_answer_per_connection, ("GET", b""), ("GET", b""), ("POST", b"{}"), ("GET", b"")
    )
    assert isinstance(get_first, Answer) and isinstance(get_again, Answer)  # sent again
    assert isinstance(post, UpstreamUnavailable)  # never sent twice: it may have been done
    assert "without answering" in str(post)
    assert isinstance(get_last, Answer)


def test_garbage_a_mid_answer_close_and_silence_become_upstream_unavailable() -> None:
    (garbage,) = _run(_answering(b"SSH-2.0-OpenSSH\r\n\r\n"), ("GET", b""))
    assert isinstance(garbage, UpstreamUnavailable) and "not HTTP/1.1" in str(garbage)
    cut = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"
    (broken,) = _run(_answering(cut, close=True), ("GET", b""))
    assert isinstance(broken, UpstreamUnavailable) and "mid-answer" in str(broken)

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    (slow,) = _run(silent, ("GET", b""), read_timeout=0.2)
    assert isinstance(slow, UpstreamUnavailable) and "no answer within 0.2 s" in str(slow)


@pytest.mark.parametrize(
    ("headers", "kept"),
    [
        ([("Connection", "close, X-A"), ("X-A", "1"), ("X-B", "2")], [("X-B", "2")]),
        (
            [("Keep-Alive", "5"), ("TE", "trailers"), ("Upgrade", "h2c"), ("X-C", "3")],
            [("X-C", "3")],
        ),
        ([("Transfer-Encoding", "chunked"), ("Proxy-Authorization", "x"), ("Host", "h")], []),
    ],
)
def test_hop_by_hop_headers_are_dropped(
    headers: list[tuple[str, str]], kept: list[tuple[str, str]]
) -> None:
    assert end_to_end(headers) == kept
