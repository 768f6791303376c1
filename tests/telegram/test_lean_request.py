"""LeanRequest driven by a real ``telegram.Bot`` against local servers: a framework server
that behaves, a raw one that misbehaves on purpose, and a TLS one with a certificate from
a test CA. What matters to the sender is pinned here: which failures are "not sent"
(safe to retry) and which are "maybe sent", and that a request is never written twice."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from pathlib import Path

import aiohttp
import pytest
import telegram
from telegram.error import NetworkError, TimedOut

from bot.config import Settings
from bot.outbox.pacing import REQUEST_WRITTEN
from bot.telegram.lean import LeanRequest
from bot.telegram.request import AiohttpRequest, ConnectionNotSent, NotSentTimedOut
from bot.telegram.transport import telegram_request
from tests.telegram.rawserver import BOT_USER, answer_ok, message, ok_bytes, raw_server
from tests.telegram.test_request import TOKEN, message_json, refusing_port, scripted_server


def make_bot(url: str, request: LeanRequest) -> telegram.Bot:
    return telegram.Bot(TOKEN, base_url=f"{url}/bot", request=request)


async def test_json_calls_reach_a_framework_server_as_json() -> None:
    async with scripted_server() as server:
        server.ok("sendMessage", message_json(42, "Привет <b>мир</b>", message_id=77))
        async with make_bot(server.url, LeanRequest()) as bot:
            first = await bot.send_message(42, "Привет <b>мир</b>", parse_mode="HTML")
            await bot.send_message(42, "again")
    assert first.message_id == 77
    call = server.received[-2]
    assert (call.method, call.content_type) == ("sendMessage", "application/json")
    assert call.user_agent.startswith("python-telegram-bot")
    assert call.fields == {"chat_id": "42", "text": "Привет <b>мир</b>", "parse_mode": "HTML"}


async def test_calls_reuse_one_connection_and_the_pacer_learns_each_write() -> None:
    written: list[int] = []
    async with raw_server() as server, make_bot(server.url, LeanRequest()) as bot:
        for chat in (1, 2, 3):
            REQUEST_WRITTEN.set(lambda chat=chat: written.append(chat))  # type: ignore[misc]
            await bot.send_message(chat, "x")
    assert written == [1, 2, 3]
    assert server.connections == 1
    assert [body["chat_id"] for body in server.sends()] == [1, 2, 3]


async def test_uploads_go_through_aiohttp_as_multipart() -> None:
    async with scripted_server() as server:
        document = {"file_id": "F1", "file_unique_id": "U1", "file_name": "r.bin"}
        server.ok("sendDocument", {**message_json(7, ""), "document": document})
        async with aiohttp.ClientSession() as session:
            async with make_bot(server.url, LeanRequest(session)) as bot:
                await bot.send_document(7, document=b"\x00\x01data", filename="r.bin")
            assert not session.closed  # the shared session belongs to its creator
    call = server.received[-1]
    assert call.content_type == "multipart/form-data"
    assert call.files["document"] == ("r.bin", "application/octet-stream", b"\x00\x01data")


async def test_refused_connection_is_not_sent() -> None:
    with refusing_port() as port:
        async with LeanRequest() as request:
            with pytest.raises(ConnectionNotSent) as caught:
                await make_bot(f"http://127.0.0.1:{port}", request).send_message(1, "x")
    assert not isinstance(caught.value, TimedOut)
    assert caught.value.message.startswith("Connection refused")


async def silent(number: int, request: bytes, writer: asyncio.StreamWriter) -> bool:
    return True  # no answer, and the connection stays open


async def test_silence_is_a_read_timeout_that_may_have_been_sent() -> None:
    async with (
        raw_server(silent) as server,
        make_bot(server.url, LeanRequest(read_timeout=0.2)) as bot,
    ):
        with pytest.raises(TimedOut) as caught:
            await bot.send_message(1, "x")
        await asyncio.sleep(0.1)
        closed_after_timeout = server.client_closed
    assert not isinstance(caught.value, ConnectionNotSent), "a read timeout is 'unknown'"
    assert closed_after_timeout == 1, "a connection in an unknown state is dropped"


async def test_per_call_read_timeout_overrides_the_default() -> None:
    async def slow(number: int, request: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(0.4)
        return await answer_ok(number, request, writer)

    async with (
        raw_server(slow) as server,
        make_bot(server.url, LeanRequest(read_timeout=0.1)) as bot,
    ):
        sent = await bot.send_message(1, "x", read_timeout=3.0)
        with pytest.raises(TimedOut):
            await bot.send_message(1, "x")
    assert sent.message_id == 1


async def test_pool_exhaustion_times_out_as_not_sent() -> None:
    async with raw_server(silent) as server:
        request = LeanRequest(connection_pool_size=1, pool_timeout=0.1, read_timeout=1.0)
        async with request:
            bot = make_bot(server.url, request)
            occupying = asyncio.create_task(bot.send_message(1, "first"))
            await asyncio.sleep(0.2)
            with pytest.raises(NotSentTimedOut) as caught:
                await bot.send_message(2, "second")
            with pytest.raises(TimedOut):
                await occupying
    assert caught.value.message.startswith("Pool timeout")
    assert [body["text"] for body in server.sends()] == ["first"]


@pytest.mark.parametrize(
    "reply",
    [
        b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"ok":',  # closed mid-answer
        b"",  # read, then closed without a word
        b"SSH-2.0-OpenSSH_9.6\r\n\r\n",  # garbage
    ],
)
async def test_a_broken_answer_is_maybe_sent_and_never_written_twice(reply: bytes) -> None:
    async def breaks(number: int, request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(reply)
        return False

    async with raw_server(breaks) as server, make_bot(server.url, LeanRequest()) as bot:
        with pytest.raises(NetworkError) as caught:
            await bot.send_message(1, "x")
    assert not isinstance(caught.value, ConnectionNotSent | TimedOut)
    assert len(server.sends()) == 1


async def test_garbage_drops_the_connection_and_the_next_call_opens_another() -> None:
    async def garbage_once(number: int, request: bytes, writer: asyncio.StreamWriter) -> bool:
        if number == 1:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}{}")  # 2 bytes too many
            return True
        return await answer_ok(number, request, writer)

    async with (
        raw_server(garbage_once) as server,
        make_bot(server.url, LeanRequest()) as bot,
    ):
        with pytest.raises(NetworkError, match="after the end"):
            await bot.send_message(1, "x")
        sent = await bot.send_message(2, "x")
    assert sent.message_id == 2
    assert server.connections == 2


async def test_chunked_answers_and_connection_close_are_honoured() -> None:
    async def varied(number: int, request: bytes, writer: asyncio.StreamWriter) -> bool:
        if number == 1:
            head, _, body = ok_bytes(message(1, number)).partition(b"\r\n\r\n")
            head = head.replace(f"Content-Length: {len(body)}".encode(), b"")
            chunks = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
            writer.write(head.rstrip(b"\r\n") + b"\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks)
            return True
        writer.write(ok_bytes(message(1, number), "Connection: close"))
        return False

    async with (
        raw_server(varied) as server,
        make_bot(server.url, LeanRequest()) as bot,
    ):
        first = await bot.send_message(1, "x")
        second = await bot.send_message(1, "x")
        third = await bot.send_message(1, "x")
    assert (first.message_id, second.message_id, third.message_id) == (1, 2, 3)
    # getMe and the chunked answer on the first, closed as asked after the second answer
    assert server.connections == 2


async def test_a_connection_the_server_closed_while_idle_is_replaced_before_writing() -> None:
    async def one_per_connection(number: int, request: bytes, writer: asyncio.StreamWriter) -> bool:
        await answer_ok(number, request, writer)
        return False  # answered with keep-alive, then closed

    async with (
        raw_server(one_per_connection) as server,
        make_bot(server.url, LeanRequest()) as bot,
    ):
        await bot.send_message(1, "x")
        await asyncio.sleep(0.2)  # the close arrives while the connection is idle
        sent = await bot.send_message(2, "x")
    assert sent.message_id == 2
    assert server.connections == 2
    assert [body["chat_id"] for body in server.sends()] == [1, 2]


async def test_shutdown_closes_the_idle_connections() -> None:
    async with raw_server() as server:
        bot = make_bot(server.url, LeanRequest())
        async with bot:
            await bot.send_message(1, "x")
            assert server.client_closed == 0
        await asyncio.sleep(0.2)
    assert server.connections == 1 and server.client_closed == 1


@pytest.fixture(scope="module")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 it signed: (ca.pem, server.pem, key)."""
    where = tmp_path_factory.mktemp("tls")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=where, check=True, capture_output=True)

    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=Test CA")
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (where / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext",
    )  # fmt: skip
    return where / "ca.pem", where / "server.pem", where / "server.key"


def server_tls(test_ca: tuple[Path, Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(test_ca[1], test_ca[2])
    return context


async def test_tls_with_a_trusted_certificate(test_ca: tuple[Path, Path, Path]) -> None:
    trusting = ssl.create_default_context(cafile=str(test_ca[0]))
    async with (
        raw_server(tls=server_tls(test_ca)) as server,
        make_bot(server.url, LeanRequest(ssl_context=trusting)) as bot,
    ):
        assert bot.username == BOT_USER["username"]
        sent = await bot.send_message(1, "x")
    assert sent.message_id == 1 and server.connections == 1


async def test_tls_certificate_not_trusted_is_not_sent(test_ca: tuple[Path, Path, Path]) -> None:
    async with (
        raw_server(tls=server_tls(test_ca)) as server,
        LeanRequest() as request,  # the system's trust store: no test CA in it
    ):
        with pytest.raises(ConnectionNotSent) as caught:
            await make_bot(server.url, request).get_me()
    assert "CERTIFICATE_VERIFY_FAILED" in caught.value.message
    assert server.requests == []


async def test_a_stalled_tls_handshake_is_a_connect_timeout(
    test_ca: tuple[Path, Path, Path],
) -> None:
    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never answers the ClientHello
        writer.close()

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    trusting = ssl.create_default_context(cafile=str(test_ca[0]))
    try:
        async with LeanRequest(ssl_context=trusting, connect_timeout=0.3) as request:
            with pytest.raises(NotSentTimedOut) as caught:
                await make_bot(f"https://127.0.0.1:{port}", request).get_me()
    finally:
        server.close()
    assert caught.value.message.startswith("Connect timeout")


async def test_the_transport_setting_picks_the_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSBOT_TELEGRAM_TRANSPORT", raising=False)
    async with aiohttp.ClientSession() as session:
        lean = telegram_request(Settings().telegram_transport, session)
        monkeypatch.setenv("NEWSBOT_TELEGRAM_TRANSPORT", "aiohttp")
        chosen = telegram_request(Settings().telegram_transport, session, read_timeout=40.0)
    assert isinstance(lean, LeanRequest)
    assert isinstance(chosen, AiohttpRequest) and chosen.read_timeout == 40.0
