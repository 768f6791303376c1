"""The HTTP/1.1 response parser of the lean transport, as data in, response out."""

from __future__ import annotations

import pytest

from bot.telegram.http1 import MalformedResponse, Response, ResponseParser, request_head

OK = b'{"ok":true,"result":true}'


def answer(*head: bytes, body: bytes = OK) -> bytes:
    lines = [b"HTTP/1.1 200 OK", *head]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def feed_all(data: bytes, step: int) -> list[Response]:
    """Feed ``data`` to one parser ``step`` bytes at a time; the responses it completed."""
    parser = ResponseParser()
    done = []
    for start in range(0, len(data), step):
        response = parser.feed(data[start : start + step])
        if response is not None:
            done.append(response)
    return done


@pytest.mark.parametrize("step", [1, 7, 10_000])
def test_a_content_length_answer_is_read_however_it_is_split(step: int) -> None:
    data = answer(b"Content-Type: application/json", b"Content-Length: %d" % len(OK))
    assert feed_all(data, step) == [Response(200, OK, keep_alive=True)]


@pytest.mark.parametrize("step", [1, 5, 10_000])
def test_chunks_with_extensions_and_trailers_are_joined(step: int) -> None:
    body = b'4;name=x\r\n{"ok\r\n15\r\n":true,"result":true}\r\n0\r\nX-Trailer: 1\r\n\r\n'
    data = answer(b"Transfer-Encoding: chunked", body=body)
    assert feed_all(data, step) == [Response(200, OK, keep_alive=True)]


def test_two_answers_in_turn_on_one_parser() -> None:
    parser = ResponseParser()
    first = parser.feed(answer(b"Content-Length: %d" % len(OK)))
    assert first == Response(200, OK, True) and parser.idle
    second = parser.feed(answer(b"Content-Length: 2", body=b"{}").replace(b"200 OK", b"429 X"))
    assert second == Response(429, b"{}", True)


@pytest.mark.parametrize(
    ("head", "keep_alive"),
    [
        (b"HTTP/1.1 200 OK\r\nConnection: close", False),
        (b"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close", False),
        (b"HTTP/1.0 200 OK", False),
        (b"HTTP/1.0 200 OK\r\nConnection: keep-alive", True),
    ],
)
def test_connection_close_and_http_1_0_end_the_connection(head: bytes, keep_alive: bool) -> None:
    response = ResponseParser().feed(head + b"\r\nContent-Length: 2\r\n\r\n{}")
    assert response == Response(200, b"{}", keep_alive)


def test_a_body_without_length_ends_with_the_stream() -> None:
    parser = ResponseParser()
    assert parser.feed(answer(body=b'{"ok":')) is None
    assert parser.feed(b"true}") is None
    assert parser.eof() == Response(200, b'{"ok":true}', keep_alive=False)


def test_informational_answers_are_skipped() -> None:
    data = b"HTTP/1.1 100 Continue\r\n\r\n" + answer(b"Content-Length: 2", body=b"{}")
    assert ResponseParser().feed(data) == Response(200, b"{}", True)


@pytest.mark.parametrize(
    "data",
    [
        b"garbage garbage\r\n\r\n",
        b"HTTP/2 200\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        answer(b"Content-Length: x"),
        answer(b"Content-Length: 1", b"Content-Length: 2"),
        answer(b"Transfer-Encoding: gzip, chunked"),
        answer(b"Content-Encoding: gzip", b"Content-Length: 2"),
        answer(b"No colon here", b"Content-Length: 2"),
        answer(b"Transfer-Encoding: chunked", body=b"zz\r\n"),
        answer(b"Transfer-Encoding: chunked", body=b"2\r\nabcd"),
        answer(b"Content-Length: 2", body=b"{}extra"),
    ],
)
def test_malformed_answers_are_refused(data: bytes) -> None:
    with pytest.raises(MalformedResponse):
        ResponseParser().feed(data)


def test_an_endless_head_is_refused() -> None:
    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(MalformedResponse, match="too long"):
        for _ in range(100):
            parser.feed(b"X-Filler: " + b"a" * 1000 + b"\r\n")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"HTTP/1.1 200 OK\r\n",
        answer(b"Content-Length: 10", body=b"{}"),
        answer(b"Transfer-Encoding: chunked", body=b"2\r\n{}\r\n"),
    ],
)
def test_the_stream_ending_early_is_malformed(data: bytes) -> None:
    parser = ResponseParser()
    parser.feed(data)
    with pytest.raises(MalformedResponse, match="closed before"):
        parser.eof()


def test_request_head_ends_where_the_length_goes() -> None:
    head = request_head("/bot1:x/sendMessage", "api.example:8081", "ua/1", "application/json")
    message = head + b"2\r\n\r\n{}"
    assert message == (
        b"POST /bot1:x/sendMessage HTTP/1.1\r\nHost: api.example:8081\r\nUser-Agent: ua/1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    )
