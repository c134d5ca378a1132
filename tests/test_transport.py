"""AiohttpRequest against the fake Bot API server and against misbehaving raw sockets.

No assertion here measures time. A timeout is shown by what it leaves behind: the fake
server still holds the request unanswered (``ApiCall.status is None``), or a second request
never reached it. The fake server and the client share one event loop, so a 0.2 s client
timer always fires before the server's 0.6 s delay ends, however slow the machine is. A
request that might hang for good is bounded by the harness's generous ``WAIT``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fakebotapi import FakeBotApi, polling, tiny_png
from harness import WAIT, until
from telegram import Bot, InputFile, Update
from telegram.error import NetworkError, TimedOut
from telegram.ext import ContextTypes, MessageHandler, filters

from bot.runtime.transport import AiohttpRequest, _redact

USER = 4711


def aiohttp_bot(api: FakeBotApi, request: AiohttpRequest, base_url: str | None = None) -> Bot:
    return Bot(
        api.token,
        base_url=base_url or api.base_url,
        base_file_url=api.base_file_url,
        request=request,
        get_updates_request=request,
    )


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """A TCP server that accepts connections but never reads or answers: a stalled peer."""
    release = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await release.wait()

    server = await asyncio.start_server(stall, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        release.set()
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_echo_round_trip_over_aiohttp(
    fake_api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(update.effective_message.text or "")

    application = (
        fake_api.builder()
        .request(AiohttpRequest(connection_pool_size=8))
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    caplog.set_level(logging.DEBUG)
    async with polling(application):
        fake_api.send_text(USER, "Gibt es Zuschüsse zur Kinderbetreuung?")
        [reply] = await fake_api.wait_for_messages(USER, 1)

    assert reply.text == "Gibt es Zuschüsse zur Kinderbetreuung?"
    assert 1 in {c.params.get("timeout") for c in fake_api.calls("getUpdates")}
    assert {(c.http_method, c.headers["User-Agent"]) for c in fake_api.calls()} == {
        ("POST", AiohttpRequest.USER_AGENT)
    }
    assert fake_api.token not in caplog.text


async def test_polling_recovers_after_outage_over_aiohttp(fake_api: FakeBotApi) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(update.effective_message.text or "")

    errors: list[Exception] = []
    application = (
        fake_api.builder()
        .request(AiohttpRequest())
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    async with polling(application, error_callback=errors.append):
        fake_api.send_text(USER, "vorher")
        await fake_api.wait_for_messages(USER, 1)
        await fake_api.stop_http()  # pooled keep-alive connections die with it
        fake_api.send_text(USER, "nachher")
        await until(lambda: errors)  # polling has met the outage
        await fake_api.start_http()
        replies = await fake_api.wait_for_messages(USER, 2, timeout=WAIT)

    assert [m.text for m in replies] == ["vorher", "nachher"]
    assert errors and all(isinstance(e, NetworkError) for e in errors)


async def test_parameters_arrive_typed(fake_api: FakeBotApi) -> None:
    fake_api.send_text(USER, "Hallo")
    async with aiohttp_bot(fake_api, AiohttpRequest()) as bot:
        await bot.send_message(USER, "123", disable_notification=True, protect_content=False)

    params = fake_api.calls("sendMessage")[0].params
    assert params["text"] == "123"
    assert params["chat_id"] == USER
    assert params["disable_notification"] is True


async def test_read_timeout_and_per_call_override(fake_api: FakeBotApi) -> None:
    fake_api.send_text(USER, "Hallo")
    async with aiohttp_bot(fake_api, AiohttpRequest(read_timeout=0.2)) as bot:
        fake_api.delay_next("sendMessage", 0.6)
        with pytest.raises(TimedOut):
            await bot.send_message(USER, "zu langsam")
        assert fake_api.calls("sendMessage")[-1].status is None  # gave up before the answer

        fake_api.delay_next("sendMessage", 0.4)
        # per call beats default; generous, so that only a lost override can fail it
        await bot.send_message(USER, "darf dauern", read_timeout=WAIT)
        assert fake_api.calls("sendMessage")[-1].ok

    async with aiohttp_bot(fake_api, AiohttpRequest(read_timeout=None)) as bot:
        fake_api.delay_next("sendMessage", 0.6)
        with pytest.raises(TimedOut):
            await asyncio.wait_for(bot.send_message(USER, "Eile", read_timeout=0.2), WAIT)
        assert fake_api.calls("sendMessage")[-1].status is None


async def test_pool_timeout_when_all_connections_are_busy(fake_api: FakeBotApi) -> None:
    fake_api.send_text(USER, "Hallo")
    request = AiohttpRequest(
        connection_pool_size=1, pool_timeout=0.1, connect_timeout=0.1, read_timeout=None
    )
    async with aiohttp_bot(fake_api, request) as bot:
        # The one connection stays busy far beyond the pool + connect budget of 0.2 s.
        fake_api.delay_next("sendMessage", WAIT)
        busy = asyncio.create_task(bot.send_message(USER, "belegt die Verbindung"))
        await until(lambda: fake_api.calls("sendMessage"))  # the connection is taken
        with pytest.raises(TimedOut):
            await bot.send_chat_action(USER, "typing")
        assert not busy.done()  # the budget ran out, not the busy request
        assert fake_api.calls("sendChatAction") == []  # it never got a connection
        busy.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await busy


async def test_unreachable_server_raises_network_error(fake_api: FakeBotApi) -> None:
    async with aiohttp_bot(fake_api, AiohttpRequest(connect_timeout=1)) as bot:
        await fake_api.stop_http()
        with pytest.raises(NetworkError) as caught:
            await bot.get_me()
        assert not isinstance(caught.value, TimedOut)
        assert fake_api.token not in str(caught.value)

        await fake_api.start_http()
        assert (await bot.get_me()).username == "vereinbar_test_bot"


async def test_photo_and_large_uploads(fake_api: FakeBotApi, tmp_path: Path) -> None:
    fake_api.send_text(USER, "Hallo")
    image = tiny_png(640, 480)
    big = os.urandom(300_000)  # beyond the socket buffer: goes through the write guard
    on_disk = tmp_path / "Übersicht Kita-Plätze.pdf"
    on_disk.write_bytes(os.urandom(150_000))

    async with aiohttp_bot(fake_api, AiohttpRequest()) as bot:
        photo = await bot.send_photo(USER, image, caption="Aushang")
        document = await bot.send_document(USER, big, filename="gross.bin")
        with on_disk.open("rb") as handle:
            streamed = await bot.send_document(USER, InputFile(handle, read_file_handle=False))
        downloaded = await (await bot.get_file(photo.photo[-1].file_id)).download_as_bytearray()

    assert (photo.photo[-1].width, photo.photo[-1].height) == (640, 480)
    upload = fake_api.calls("sendPhoto")[0].params["photo"]
    assert upload.data == image
    assert bytes(downloaded) == image
    assert document.document is not None and streamed.document is not None
    assert fake_api.file_bytes(document.document.file_id) == big
    for call in fake_api.calls("sendDocument"):  # streamed, yet with a length, not chunked
        assert "Transfer-Encoding" not in call.headers
        assert int(call.headers["Content-Length"]) > 150_000
    assert streamed.document.file_name == "Übersicht Kita-Plätze.pdf"
    assert fake_api.file_bytes(streamed.document.file_id) == on_disk.read_bytes()


async def test_write_timeout_on_stalled_upload(fake_api: FakeBotApi) -> None:
    async with silent_server() as port:
        request = AiohttpRequest(media_write_timeout=0.3, read_timeout=5)
        async with request:
            bot = aiohttp_bot(fake_api, request, base_url=f"http://127.0.0.1:{port}/bot")
            # The peer never reads, so without the write guard this would hang for good; the
            # read timeout cannot end it, it starts only once the body is out.
            upload = bot.send_document(USER, bytes(64 * 1024 * 1024), filename="riesig.bin")
            with pytest.raises(TimedOut, match="sending the request body"):
                await asyncio.wait_for(upload, WAIT)


async def test_write_timeout_does_not_cover_the_answer(fake_api: FakeBotApi) -> None:
    """Once the body is out, only the read timeout applies, however slow the server is."""
    fake_api.send_text(USER, "Hallo")
    # A write budget a busy machine cannot exhaust between two chunks, and a server that
    # keeps the answer back twice as long once it has read the whole body.
    async with aiohttp_bot(fake_api, AiohttpRequest(media_write_timeout=1.0)) as bot:
        fake_api.delay_next("sendDocument", 2.0)
        message = await bot.send_document(USER, os.urandom(500_000), filename="gross.bin")
    assert message.document is not None


async def test_read_timeout_against_silent_server(fake_api: FakeBotApi) -> None:
    async with silent_server() as port, AiohttpRequest(read_timeout=0.2) as request:
        bot = aiohttp_bot(fake_api, request, base_url=f"http://127.0.0.1:{port}/bot")
        with pytest.raises(TimedOut):
            await asyncio.wait_for(bot.send_message(USER, "Hallo?"), WAIT)


async def test_lifecycle_contract() -> None:
    request = AiohttpRequest(read_timeout=7)
    assert (request.read_timeout, request.http_version) == (7, "1.1")
    with pytest.raises(NetworkError, match="not initialized"):
        await request.post("http://127.0.0.1:9/botX/getMe")
    await request.initialize()
    await request.initialize()  # PTB may initialize a shared instance twice
    await request.shutdown()
    await request.shutdown()
    with pytest.raises(ValueError, match="proxy scheme"):
        AiohttpRequest(proxy="ftp://127.0.0.1:21")
    assert AiohttpRequest(proxy="http://127.0.0.1:3128")
    if importlib.util.find_spec("aiohttp_socks") is None:
        with pytest.raises(RuntimeError, match="aiohttp-socks"):
            AiohttpRequest(proxy="socks5://127.0.0.1:1080")
    else:
        async with AiohttpRequest(proxy="socks5://127.0.0.1:1080"):
            pass


def test_tokens_are_redacted_from_messages() -> None:
    message = "Cannot write request body for http://h/bot123:AAsecret-_x/sendPhoto'"
    assert _redact(message) == "Cannot write request body for http://h/bot<redacted>/sendPhoto'"
    assert _redact("http://h/file/bot123:AAsecret/photos/1.jpg") == (
        "http://h/file/bot<redacted>/photos/1.jpg"
    )


# --- the PTB internals the transport relies on (bot/runtime/ptbcompat.py) ----------------------


def test_ptb_still_marks_unset_timeouts_the_way_the_transport_expects() -> None:
    """Fails loudly when a PTB release changes what ``AiohttpRequest.do_request`` is handed."""
    import inspect

    from telegram.request import BaseRequest

    from bot.runtime.ptbcompat import given

    for method in (BaseRequest.post, BaseRequest.do_request):
        parameters = inspect.signature(method).parameters
        for name in ("read_timeout", "write_timeout", "connect_timeout", "pool_timeout"):
            assert parameters[name].default is BaseRequest.DEFAULT_NONE, (method, name)
    assert given(BaseRequest.DEFAULT_NONE, 5.0) == 5.0
    assert given(None, 5.0) is None  # an explicit None means "wait forever", not "default"
    assert given(2.5, 5.0) == 2.5


def test_the_private_ptb_names_used_for_type_checking_still_exist() -> None:
    """mypy would fail too; this says which PTB name moved."""
    from telegram._utils import defaultvalue, types  # the only test that may import these
    from telegram.request import BaseRequest

    assert isinstance(BaseRequest.DEFAULT_NONE, defaultvalue.DefaultValue)
    assert hasattr(types, "ODVInput") and hasattr(types, "UploadFileDict")
