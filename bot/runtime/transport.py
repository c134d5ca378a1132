"""aiohttp-based HTTP transport for python-telegram-bot.

PTB's default ``HTTPXRequest`` spends noticeably more CPU per Bot API call than a plain aiohttp
client (see ``bench/transport.py``). ``AiohttpRequest`` is a drop-in replacement that follows the
``telegram.request.BaseRequest`` contract: it returns ``(status, body)`` and leaves Bot API error
handling to PTB, raising only ``TimedOut`` and ``NetworkError`` itself.

Timeouts map onto aiohttp as follows (PTB's per-call values win over the defaults):

* ``connect_timeout`` -> ``ClientTimeout.sock_connect`` (TCP/TLS set-up of a new connection).
* ``pool_timeout`` + ``connect_timeout`` -> ``ClientTimeout.connect``: aiohttp has one budget for
  "wait for a free pooled connection and open it if needed", so a pool wait may eat into it.
* ``read_timeout`` -> ``ClientTimeout.sock_read``: maximum silence while waiting for response
  bytes; aiohttp arms it once the request body is sent, as httpx does.
* ``write_timeout`` -> a watchdog re-armed for every 64 KiB chunk of the request body, i.e. the
  maximum time one chunk may take to be accepted by the socket. Bodies that fit in the socket
  buffer are handed over at once and never wait, so they skip the watchdog.

The bot token is part of every URL. This module never logs URLs and strips the token from error
messages, because PTB logs exceptions and aiohttp puts URLs into some of its messages.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import io
import os
import re
import secrets
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any, Final

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.runtime.ptbcompat import given

if TYPE_CHECKING:
    from bot.runtime.ptbcompat import ODVInput, UploadFileDict

__all__ = ["AiohttpRequest"]

_CHUNK_SIZE: Final = 64 * 1024
# Bodies up to this size fit into the transport's write buffer (aiohttp's high-water mark is
# 64 KiB), so writing them cannot block and a write timeout cannot trigger.
_INSTANT_WRITE_LIMIT: Final = 64 * 1024
_TOKEN_IN_URL: Final = re.compile(r"/bot[^/\s'\"]+")
# HTML5 form encoding of names in Content-Disposition, the same as httpx uses, so uploads look
# exactly like the ones PTB's default transport sends.
_FORM_ESCAPES: Final = {'"': "%22", "\\": "\\\\"} | {
    chr(c): f"%{c:02X}" for c in range(0x20) if c != 0x1B
}
_FORM_ESCAPE_RE: Final = re.compile("|".join(re.escape(c) for c in _FORM_ESCAPES))

_SOCKS_SCHEMES: Final = frozenset({"socks4", "socks5", "socks5h"})

_Segment = bytes | IO[bytes]


def _redact(text: str) -> str:
    """Remove bot tokens from ``text`` (``/bot<token>`` becomes ``/bot<redacted>``)."""
    return _TOKEN_IN_URL.sub("/bot<redacted>", text)


def _form_param(name: str, value: str) -> bytes:
    escaped = _FORM_ESCAPE_RE.sub(lambda m: _FORM_ESCAPES[m.group(0)], value)
    return f'{name}="{escaped}"'.encode()


def _remaining_size(handle: IO[bytes]) -> int | None:
    """Bytes left in a file handle, or ``None`` if that cannot be told without reading it."""
    try:
        return os.fstat(handle.fileno()).st_size - handle.tell()
    except (AttributeError, OSError, io.UnsupportedOperation):
        pass
    try:
        position = handle.tell()
        end = handle.seek(0, os.SEEK_END)
        handle.seek(position)
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None
    return end - position


def _multipart(fields: dict[str, str], files: UploadFileDict, boundary: bytes) -> list[_Segment]:
    """Encode a multipart/form-data body as segments; file handles stay unread until sent."""
    segments: list[_Segment] = []
    for name, value in fields.items():
        segments.append(
            b"--%b\r\nContent-Disposition: form-data; %b\r\n\r\n%b\r\n"
            % (boundary, _form_param("name", name), value.encode())
        )
    for name, (filename, content, mime_type) in files.items():
        head = b"--%b\r\nContent-Disposition: form-data; %b" % (boundary, _form_param("name", name))
        if filename:
            head += b"; " + _form_param("filename", filename)
        segments.append(head + b"\r\nContent-Type: %b\r\n\r\n" % mime_type.encode())
        if not isinstance(content, bytes) and content.seekable():
            content.seek(0)  # like httpx: a retried call must send the whole file again
        segments.append(content)
        segments.append(b"\r\n")
    segments.append(b"--%b--\r\n" % boundary)
    return segments


def _body_size(segments: Sequence[_Segment]) -> int | None:
    total = 0
    for segment in segments:
        size = len(segment) if isinstance(segment, bytes) else _remaining_size(segment)
        if size is None:
            return None
        total += size
    return total


async def _guarded_chunks(
    segments: Sequence[_Segment], write_timeout: float | None, guard: asyncio.Timeout
) -> AsyncIterator[bytes]:
    """Yield the body in chunks, giving each chunk ``write_timeout`` seconds to be written.

    aiohttp asks for the next chunk only after the previous one has been written (drained), so
    re-arming the guard before every ``yield`` bounds each socket write, and disarming it after
    the last one keeps the guard out of the read phase.
    """
    loop = asyncio.get_running_loop()

    def arm(timeout: float | None) -> bool:
        try:
            guard.reschedule(None if timeout is None else loop.time() + timeout)
        except RuntimeError:  # the guard has exited: the request is over, stop producing
            return False
        return True

    for segment in segments:
        if isinstance(segment, bytes):
            chunks: Iterator[bytes] = (
                segment[start : start + _CHUNK_SIZE]
                for start in range(0, len(segment), _CHUNK_SIZE)
            )
        else:
            chunks = iter(functools.partial(segment.read, _CHUNK_SIZE), b"")
        for chunk in chunks:
            if not arm(write_timeout):
                return
            yield chunk
    arm(None)


class AiohttpRequest(BaseRequest):
    """``BaseRequest`` implementation on one keep-alive aiohttp ``ClientSession``.

    Args:
        connection_pool_size: Maximum number of simultaneous connections.
        read_timeout: Default read timeout in seconds (``None``: wait forever).
        write_timeout: Default write timeout for requests without files.
        connect_timeout: Default timeout for establishing a connection.
        pool_timeout: Default timeout for waiting for a free connection.
        media_write_timeout: Default write timeout for requests that upload files.
        proxy: Proxy URL. ``http://`` and ``https://`` work out of the box; ``socks4://``,
            ``socks5://`` and ``socks5h://`` need the ``aiohttp-socks`` package.
        trust_env: Read proxy settings from ``HTTP(S)_PROXY``/``NO_PROXY`` like httpx does.
            Off by default because it costs an environment lookup per request.
        keepalive_timeout: Seconds an idle connection is kept open for reuse.
    """

    __slots__ = (
        "_connect_timeout",
        "_keepalive_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_proxy",
        "_read_timeout",
        "_session",
        "_socks_proxy",
        "_trust_env",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        proxy: str | None = None,
        trust_env: bool = False,
        keepalive_timeout: float = 30.0,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        if proxy is not None:
            scheme = proxy.partition("://")[0].lower()
            if scheme in _SOCKS_SCHEMES:
                if importlib.util.find_spec("aiohttp_socks") is None:
                    raise RuntimeError(
                        "SOCKS proxies need the aiohttp-socks package: pip install aiohttp-socks"
                    )
            elif scheme not in ("http", "https"):
                raise ValueError(f"unsupported proxy scheme {scheme!r}")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        # aiohttp takes HTTP proxies per request; SOCKS proxies replace the connector.
        is_socks = proxy is not None and proxy.partition("://")[0].lower() in _SOCKS_SCHEMES
        self._proxy = None if is_socks else proxy
        self._socks_proxy = proxy if is_socks else None
        self._trust_env = trust_env
        self._keepalive_timeout = keepalive_timeout
        # Created in initialize(): aiohttp wants a running event loop for its session.
        self._session: aiohttp.ClientSession | None = None

    @property
    def http_version(self) -> str:
        """HTTP version in use; aiohttp speaks HTTP/1.1 only."""
        return "1.1"

    @property
    def read_timeout(self) -> float | None:
        """Default read timeout; PTB adds the long-polling timeout of ``getUpdates`` to it."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session; safe to call repeatedly (PTB does when one instance is shared)."""
        if self._session is not None and not self._session.closed:
            return
        connector_options: dict[str, Any] = {
            "limit": self._pool_size,
            "limit_per_host": 0,
            "keepalive_timeout": self._keepalive_timeout,
        }
        connector: aiohttp.BaseConnector
        if self._socks_proxy is not None:
            from aiohttp_socks import ProxyConnector  # optional dependency, checked in __init__

            connector = ProxyConnector.from_url(self._socks_proxy, **connector_options)
        else:
            connector = aiohttp.TCPConnector(**connector_options)
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": self.USER_AGENT},
            timeout=aiohttp.ClientTimeout(total=None),
            trust_env=self._trust_env,
            # PTB parses the payload itself; skip aiohttp's cookie handling for the API calls.
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def shutdown(self) -> None:
        """Close the session and its pooled connections; safe to call repeatedly."""
        if self._session is None or self._session.closed:
            return
        await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; Bot API errors come back as status codes for PTB to interpret."""
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")

        has_files = bool(request_data and request_data.contains_files)
        read = given(read_timeout, self._read_timeout)
        connect = given(connect_timeout, self._connect_timeout)
        pool = given(pool_timeout, self._pool_timeout)
        default_write = self._media_write_timeout if has_files else self._write_timeout
        write = given(write_timeout, default_write)
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
        )

        headers: dict[str, str] = {}
        segments: list[_Segment] = []
        if request_data is not None:
            if has_files:
                boundary = secrets.token_hex(16).encode()
                headers["Content-Type"] = f"multipart/form-data; boundary={boundary.decode()}"
                segments = _multipart(
                    request_data.json_parameters, request_data.multipart_data, boundary
                )
            elif method != "GET":
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                segments = [request_data.url_encoded_parameters().encode()]

        try:
            size = _body_size(segments)
            if size is not None and size <= _INSTANT_WRITE_LIMIT:
                body = b"".join(s if isinstance(s, bytes) else s.read() for s in segments)
                return await self._send(session, method, url, body or None, headers, timeout)
            if size is not None:
                # An explicit length keeps aiohttp from using chunked transfer encoding.
                headers["Content-Length"] = str(size)
            write_guard = asyncio.timeout(None)
            try:
                async with write_guard:
                    chunks = _guarded_chunks(segments, write, write_guard)
                    return await self._send(session, method, url, chunks, headers, timeout)
            except TimeoutError:
                if write_guard.expired():
                    raise TimedOut("Timed out while sending the request body") from None
                raise
        except TimeoutError as exc:
            # aiohttp's ServerTimeoutError family: connect, pool or read timeout.
            raise TimedOut(_redact(str(exc)) or None) from None
        except aiohttp.ClientError as exc:
            message = f"aiohttp.{type(exc).__name__}: {exc}"
            redacted = _redact(message)
            if redacted != message:
                # The original exception names the token: keep it out of tracebacks.
                raise NetworkError(redacted) from None
            raise NetworkError(message) from exc

    async def _send(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        body: bytes | AsyncIterator[bytes] | None,
        headers: dict[str, str],
        timeout: aiohttp.ClientTimeout,
    ) -> tuple[int, bytes]:
        async with session.request(
            method,
            url,
            data=body,
            headers=headers,
            timeout=timeout,
            proxy=self._proxy,
            allow_redirects=False,
        ) as response:
            return response.status, await response.read()
