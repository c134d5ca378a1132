"""A fake Telegram Bot API server for end-to-end tests.

The bot under test runs unchanged: python-telegram-bot's real ``Application`` talks to this
aiohttp app over real HTTP on 127.0.0.1, so request encoding, long polling, retries, rate
limiting and error mapping are exercised exactly as against api.telegram.org. Results and errors
mimic Telegram's JSON, including the checks that most often break real bots (chat not found,
message not modified, unsupported HTML tags, stale callback queries, 429 with retry_after).

Usage (``fake_api`` in conftest.py yields a started server)::

    async with FakeBotApi() as api:
        app = api.builder().build()  # ApplicationBuilder with token, base_url, base_file_url
        app.add_handler(...)
        async with polling(app):
            api.send_text(42, "/start")
            [reply] = await api.wait_for_messages(42, 1)

Everything on the test side is plain Python on the same event loop; only the bot uses HTTP.
Deliberate simplifications: Markdown/MarkdownV2 text is stored verbatim (HTML is parsed and
validated), only the methods listed in ``FakeBotApi.__init__`` exist (others answer 404 like
unknown methods), and inline-mode edits just return ``True``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import re
import secrets
import struct
import time
import zlib
from collections import Counter, deque
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self

from aiohttp import BodyPartReader, web
from telegram.ext import Application, ApplicationBuilder

__all__ = [
    "DEFAULT_TOKEN",
    "ApiCall",
    "BotMessage",
    "FakeBotApi",
    "UploadedFile",
    "iter_buttons",
    "polling",
    "tiny_png",
]

JSONDict = dict[str, Any]

DEFAULT_TOKEN = "7000000001:AAFakeTokenForTests_0123456789abcdefg"

# Update types Telegram leaves out unless allowed_updates asks for them.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_MESSAGE_KEYS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
)
# Parameters that are strings even when they look like JSON ("123", "true").
_STRING_PARAMS = frozenset(
    (
        "action animation audio business_connection_id callback_query_id caption data description "
        "document emoji file_id inline_message_id ip_address language_code message_effect_id name "
        "parse_mode photo secret_token short_description sticker text title url video voice"
    ).split()
)
_CHAT_ACTIONS = frozenset(
    (
        "typing upload_photo record_video upload_video record_voice upload_voice upload_document "
        "choose_sticker find_location record_video_note upload_video_note"
    ).split()
)
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are"
    " exactly the same as a current content and reply markup of the message"
)
_MAX_TEXT = 4096
_MAX_CAPTION = 1024


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request, as the bot uploaded it."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class ApiCall:
    """One HTTP request to the Bot API; ``status`` stays ``None`` if no response was sent."""

    method: str
    params: dict[str, Any]
    time: float  # time.monotonic() at arrival, for measuring intervals between calls
    http_method: str
    token: str
    headers: dict[str, str] = field(default_factory=dict)
    status: int | None = None
    response: JSONDict | None = None

    @property
    def ok(self) -> bool:
        return self.status == HTTPStatus.OK


@dataclass(frozen=True)
class BotMessage:
    """A message the bot sent or edited, as Telegram returned it to the bot."""

    method: str
    chat_id: int
    message_id: int
    text: str | None  # text, or caption for media
    reply_markup: JSONDict | None
    message: JSONDict
    time: float


@dataclass
class _Fault:
    error_code: int
    description: str
    parameters: JSONDict | None
    delay: float = 0.0


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes | None
    file_path: str
    meta: JSONDict = field(default_factory=dict)


class _ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(detail: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {detail}")


def _utf16_len(text: str) -> int:
    """Telegram counts lengths and entity offsets in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------- text entities

_AUTO_ENTITY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")),
    (
        "url",
        re.compile(
            r"(?<![\w@/.])(?:https?://[^\s<>\"]+|www\.[^\s<>\"]+"
            r"|(?:[\w-]+\.)+(?:de|com|org|net|eu|info|io)(?:/[^\s<>\"]*)?\b)",
            re.IGNORECASE,
        ),
    ),
    ("bot_command", re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?!\w)")),
    ("mention", re.compile(r"(?<![\w@.])@[A-Za-z0-9_]{5,32}(?!\w)")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d_]\w*")),
)


def _auto_entities(text: str) -> list[JSONDict]:
    """Entities Telegram detects by itself: commands, mentions, hashtags, e-mails, URLs."""
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, int, str]] = []
    for kind, pattern in _AUTO_ENTITY_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if kind == "url":
                while end > start and text[end - 1] in ".,;:!?)'":
                    end -= 1
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            taken.append((start, end))
            found.append((start, end, kind))
    found.sort()
    return [
        {"offset": _utf16_len(text[:start]), "length": _utf16_len(text[start:end]), "type": kind}
        for start, end, kind in found
    ]


_HTML_TAG = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[A-Za-z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)"
    r"\s*/?>"
)
_HTML_ATTR = re.compile(r"([A-Za-z-]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+)))?")
_HTML_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9A-Fa-f]+);")
_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


def _html_unescape(chunk: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("#x"):
            return chr(int(name[2:], 16))
        if name.startswith("#"):
            return chr(int(name[1:]))
        return {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}[name]

    return _HTML_ENTITY.sub(replace, chunk)


def _parse_html(source: str) -> tuple[str, list[JSONDict]]:
    """Strip Telegram-HTML to plain text plus entities; reject what Telegram rejects."""

    def error(detail: str) -> _ApiError:
        return _bad_request(f"can't parse entities: {detail}")

    def byte_offset(index: int) -> int:
        return len(source[:index].encode())

    text: list[str] = []
    length = 0  # UTF-16 length of the text so far
    entities: list[JSONDict] = []
    stack: list[tuple[str, int, JSONDict]] = []
    index = 0
    while index < len(source):
        lt = source.find("<", index)
        chunk = source[index : len(source) if lt < 0 else lt]
        plain = _html_unescape(chunk)
        text.append(plain)
        length += _utf16_len(plain)
        if lt < 0:
            break
        match = _HTML_TAG.match(source, lt)
        if match is None:
            raise error(f'Unsupported start tag "" at byte offset {byte_offset(lt)}')
        closing, tag, raw_attrs = match.group(1), match.group(2).lower(), match.group(3)
        attrs = {
            m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or ""
            for m in _HTML_ATTR.finditer(raw_attrs)
        }
        if closing:
            if not stack or stack[-1][0] != tag:
                expected = f'"</{stack[-1][0]}>"' if stack else "nothing"
                raise error(
                    f"Unmatched end tag at byte offset {byte_offset(lt)}, expected {expected},"
                    f' found "</{tag}>"'
                )
            _, start, entity = stack.pop()
            if length > start:
                entity.update(offset=start, length=length - start)
                if entity["type"] == "code" and stack and stack[-1][0] == "pre":
                    # <pre><code class="language-x"> becomes one pre entity with a language.
                    language = entity.get("language")
                    if language:
                        stack[-1][2]["language"] = language
                else:
                    entity.pop("language", None)
                    entities.append(entity)
        else:
            kind = _HTML_TAGS.get(tag)
            if kind is None or (tag == "span" and attrs.get("class") != "tg-spoiler"):
                raise error(f'Unsupported start tag "{tag}" at byte offset {byte_offset(lt)}')
            entity: JSONDict = {"type": kind}
            if tag == "a":
                href = attrs.get("href", "")
                if href.startswith("tg://user?id="):
                    entity = {"type": "text_mention", "user": {"id": int(href[13:] or 0)}}
                else:
                    entity["url"] = href
            elif tag == "blockquote" and "expandable" in attrs:
                entity["type"] = "expandable_blockquote"
            elif tag == "tg-emoji":
                entity["custom_emoji_id"] = attrs.get("emoji-id", "")
            elif tag == "code" and attrs.get("class", "").startswith("language-"):
                entity["language"] = attrs["class"][9:]
            stack.append((tag, length, entity))
        index = match.end()
    if stack:
        raise error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(text), entities


# --------------------------------------------------------------------------- images


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, JPEG, GIF or WebP image, read from its header."""
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            return struct.unpack(">II", data[16:24])
        if data[:6] in (b"GIF87a", b"GIF89a"):
            return struct.unpack("<HH", data[6:10])
        if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
            chunk = data[12:16]
            if chunk == b"VP8X":
                width = 1 + int.from_bytes(data[24:27], "little")
                return width, 1 + int.from_bytes(data[27:30], "little")
            if chunk == b"VP8 ":
                width, height = struct.unpack("<HH", data[26:30])
                return width & 0x3FFF, height & 0x3FFF
            if chunk == b"VP8L":
                bits = int.from_bytes(data[21:25], "little")
                return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
            return None
        if data.startswith(b"\xff\xd8"):
            index = 2
            while index + 9 < len(data):
                if data[index] != 0xFF:
                    return None
                marker = data[index + 1]
                if marker == 0xFF:
                    index += 1
                    continue
                if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                    index += 2
                    continue
                (segment_length,) = struct.unpack(">H", data[index + 2 : index + 4])
                if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                    height, width = struct.unpack(">HH", data[index + 5 : index + 9])
                    return width, height
                index += 2 + segment_length
    except struct.error:
        return None
    return None


# --------------------------------------------------------------------------- the server


class FakeBotApi:
    """In-process fake of api.telegram.org for one bot.

    Args:
        token: The bot token the server accepts; any other token gets 401 Unauthorized.
        bot_username: Username ``getMe`` reports.
        bot_name: First name ``getMe`` reports.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "vereinbar_test_bot",
        bot_name: str = "Vereinbar (Test)",
    ) -> None:
        self._token = token
        self.bot_user: JSONDict = {
            "id": int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 7000000001,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

        self._calls: list[ApiCall] = []
        self._outgoing: list[BotMessage] = []
        self._faults: dict[str, deque[_Fault]] = {}

        self._updates: list[JSONDict] = []
        self._update_ids = itertools.count(100_000_001)
        self._deliveries: Counter[int] = Counter()
        self._allowed_updates: frozenset[str] | None = None  # None: Telegram's default set
        self._poll_generation = 0
        self._update_event = asyncio.Event()
        self._outgoing_event = asyncio.Event()

        self._users: dict[int, JSONDict] = {}
        self._chats: dict[int, JSONDict] = {}
        self._blocked: set[int] = set()
        self._removed: set[int] = set()  # groups the bot was removed from
        self._messages: dict[tuple[int, int], JSONDict] = {}
        self._last_message_id: dict[int, int] = {}
        self._open_callbacks: set[str] = set()
        self._callback_ids = itertools.count(4_382_000_000_000_000_001)
        self._files: dict[str, _StoredFile] = {}
        self._file_paths: dict[str, _StoredFile] = {}
        self._file_counter = itertools.count(1)

        self.webhook_url: str | None = None

        self._methods = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "deleteWebhook": self._delete_webhook,
                "setWebhook": self._set_webhook,
                "setMyCommands": self._set_my_commands,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "setMyDescription": self._set_my_description,
                "setMyShortDescription": self._set_my_short_description,
                "answerCallbackQuery": self._answer_callback_query,
                "sendPhoto": self._send_photo,
                "sendDocument": self._send_document,
                "sendChatAction": self._send_chat_action,
                "getFile": self._get_file,
            }.items()
        }

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start serving on a random free port of 127.0.0.1."""
        await self.start_http()

    async def stop(self) -> None:
        """Stop serving; in-flight requests are cut off."""
        await self.stop_http()

    async def start_http(self) -> None:
        """(Re)open the HTTP listener, on the same port as before if there was one."""
        if self._runner is not None:
            return
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # A short shutdown timeout cuts pending long polls off like a dropped connection.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.05)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self._port or 0)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._port = runner.addresses[0][1]
        self._runner = runner

    async def stop_http(self) -> None:
        """Close the listener and all connections: Telegram becomes unreachable.

        State (queued updates, chats, messages) survives, so ``start_http()`` resumes service.
        """
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    @property
    def http_running(self) -> bool:
        return self._runner is not None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeBotApi has not been started")
        return self._port

    @property
    def base_url(self) -> str:
        """Value for ``ApplicationBuilder.base_url``."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``ApplicationBuilder.base_file_url``."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    @property
    def token(self) -> str:
        return self._token

    @property
    def bot_id(self) -> int:
        return int(self.bot_user["id"])

    def builder(self) -> ApplicationBuilder:
        """An ``ApplicationBuilder`` already pointed at this server with its token."""
        return (
            ApplicationBuilder()
            .token(self.token)
            .base_url(self.base_url)
            .base_file_url(self.base_file_url)
        )

    def revoke_token(self) -> str:
        """Replace the token like BotFather's /revoke: the old one gets 401 from now on."""
        self._token = f"{self.bot_id}:{secrets.token_urlsafe(26)}"
        return self._token

    # ------------------------------------------------------------------ test-side: users

    def send_text(
        self,
        user_id: int,
        text: str,
        chat_type: str = "private",
        chat_id: int | None = None,
        first_name: str | None = None,
        username: str | None = None,
        *,
        last_name: str | None = None,
        language_code: str = "de",
        chat_title: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> int:
        """Queue a text message from a user and return its update_id.

        ``chat_id`` defaults to the user's private chat, ``-user_id`` for a group and
        ``-100<user_id>`` for a supergroup. Commands, mentions, URLs etc. get entities.
        """
        user = self._user(user_id, first_name, username, last_name, language_code)
        chat = self._chat_for(user, chat_type, chat_id, chat_title)
        message: JSONDict = {
            "message_id": self._next_message_id(chat["id"]),
            "from": user,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        entities = _auto_entities(text)
        if entities:
            message["entities"] = entities
        if reply_to_message_id is not None:
            replied = self._messages.get((chat["id"], reply_to_message_id))
            if replied is None:
                raise ValueError(f"no message {reply_to_message_id} in chat {chat['id']}")
            message["reply_to_message"] = copy.deepcopy(replied)
        return self.send_update({"message": message})

    def send_callback(
        self,
        user_id: int,
        data: str,
        message_id: int,
        chat_id: int | None = None,
        *,
        first_name: str | None = None,
        username: str | None = None,
        check_button: bool = True,
    ) -> int:
        """Queue a press of an inline button on a message the bot sent; return the update_id.

        With ``check_button`` the message must currently show a button with this callback data,
        as a real client can only send what is on screen.
        """
        chat_id = user_id if chat_id is None else chat_id
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        if message.get("from", {}).get("id") != self.bot_id:
            raise ValueError(f"message {message_id} in chat {chat_id} was not sent by the bot")
        if check_button:
            buttons = iter_buttons(message.get("reply_markup"))
            if not any(button.get("callback_data") == data for button in buttons):
                raise ValueError(f"message {message_id} has no button with callback data {data!r}")
        user = self._user(user_id, first_name, username, None, None)
        query_id = str(next(self._callback_ids))
        self._open_callbacks.add(query_id)
        return self.send_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "message": copy.deepcopy(message),
                    "chat_instance": str(-(abs(hash((self.bot_id, chat_id))) % 10**18)),
                    "data": data,
                }
            }
        )

    def send_update(self, update: Mapping[str, Any]) -> int:
        """Queue an arbitrary update (``update_id`` is added if missing); return the update_id.

        Chats, users and messages inside it are remembered, so the bot may answer or edit them.
        """
        update = copy.deepcopy(dict(update))
        if "update_id" in update:
            update_id = int(update["update_id"])
            self._update_ids = itertools.count(max(update_id + 1, next(self._update_ids)))
        else:
            update_id = next(self._update_ids)
            update = {"update_id": update_id, **update}
        self._remember(update)
        self._updates.append(update)
        self._updates.sort(key=lambda u: u["update_id"])
        self._wake_pollers()
        return update_id

    def add_group(
        self, chat_id: int, title: str = "Testgruppe", chat_type: str = "supergroup"
    ) -> None:
        """Make the bot a member of a group, so it can post there before anyone has written."""
        if chat_id >= 0 or chat_type not in ("group", "supergroup"):
            raise ValueError("a group has a negative id and the type group or supergroup")
        self._chats[chat_id] = {"id": chat_id, "title": title, "type": chat_type}

    def remove_bot(self, chat_id: int, removed: bool = True) -> None:
        """Make sends to a group fail with 403, as after the bot was removed from it."""
        if removed:
            self._removed.add(chat_id)
        else:
            self._removed.discard(chat_id)

    def block_bot(self, user_id: int, blocked: bool = True) -> None:
        """Make sends to the user's private chat fail with 403, as after "Stop and block"."""
        if blocked:
            self._blocked.add(user_id)
        else:
            self._blocked.discard(user_id)

    # ------------------------------------------------------------------ test-side: inspection

    def calls(self, method: str | None = None) -> list[ApiCall]:
        """All recorded requests, or those of one method (case-insensitive), oldest first."""
        if method is None:
            return list(self._calls)
        wanted = method.lower()
        return [call for call in self._calls if call.method.lower() == wanted]

    def messages(self, chat_id: int | None = None) -> list[BotMessage]:
        """The bot's outgoing messages and edits so far, optionally for one chat."""
        return [m for m in self._outgoing if chat_id is None or m.chat_id == chat_id]

    async def wait_for_messages(
        self, chat_id: int, n: int = 1, timeout: float = 5.0
    ) -> list[BotMessage]:
        """Wait until the bot has sent or edited at least ``n`` messages in ``chat_id``.

        Counts sendMessage, sendPhoto, sendDocument and editMessageText.
        Raises ``TimeoutError`` listing what did arrive.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = self.messages(chat_id)
            if len(found) >= n:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                texts = [f"{m.method}: {m.text!r}" for m in found]
                raise TimeoutError(
                    f"expected {n} bot message(s) in chat {chat_id} within {timeout}s,"
                    f" got {len(found)}: {texts}"
                )
            event = self._outgoing_event
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates queued and not yet confirmed by the bot (via a higher getUpdates offset)."""
        return copy.deepcopy(self._updates)

    def delivery_count(self, update_id: int) -> int:
        """How many getUpdates responses contained this update."""
        return self._deliveries[update_id]

    def file_bytes(self, file_id: str) -> bytes | None:
        """Content of a file the bot uploaded, by the file_id Telegram returned for it."""
        stored = self._files.get(file_id)
        return None if stored is None else stored.data

    # ------------------------------------------------------------------ test-side: faults

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        retry_after: int = 1,
        times: int = 1,
        description: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with a Bot API error.

        429 carries ``parameters.retry_after`` like Telegram's flood control; other codes get
        the HTTP reason phrase as description unless one is given.
        """
        parameters: JSONDict | None = None
        if error_code == HTTPStatus.TOO_MANY_REQUESTS:
            parameters = {"retry_after": retry_after}
            description = description or f"Too Many Requests: retry after {retry_after}"
        elif description is None:
            try:
                description = HTTPStatus(error_code).phrase
            except ValueError:
                description = "Error"
        queue = self._faults.setdefault(method.lower(), deque())
        queue.extend(_Fault(error_code, description, parameters) for _ in range(times))

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Hold the next ``times`` calls of ``method`` for ``seconds`` before answering."""
        queue = self._faults.setdefault(method.lower(), deque())
        queue.extend(_Fault(0, "", None, delay=seconds) for _ in range(times))

    # ------------------------------------------------------------------ HTTP layer

    async def _handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        raw_method = request.match_info["method"]
        known = self._methods.get(raw_method.lower())
        call = ApiCall(
            method=known[0] if known else raw_method,
            params={},
            time=time.monotonic(),
            http_method=request.method,
            token=token,
            headers=dict(request.headers),
        )
        self._calls.append(call)
        try:
            call.params = await self._parse_params(request)
            if token != self._token:
                raise _ApiError(401, "Unauthorized")
            if known is None:
                raise _ApiError(404, "Not Found")
            fault = self._take_fault(raw_method.lower())
            if fault is not None:
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                if fault.error_code:
                    raise _ApiError(fault.error_code, fault.description, fault.parameters)
            body: JSONDict = {"ok": True, "result": await known[1](call.params)}
            status = 200
        except _ApiError as exc:
            body, status = exc.body(), exc.code
        call.status, call.response = status, body
        return web.json_response(body, status=status, dumps=_dumps)

    async def _handle_file(self, request: web.Request) -> web.Response:
        stored = self._file_paths.get(request.match_info["path"])
        if request.match_info["token"] != self._token:
            error = _ApiError(401, "Unauthorized")
        elif stored is None or stored.data is None:
            error = _ApiError(404, "Not Found")
        else:
            return web.Response(body=stored.data, content_type="application/octet-stream")
        return web.json_response(error.body(), status=error.code, dumps=_dumps)

    def _take_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method)
        return queue.popleft() if queue else None

    @staticmethod
    async def _parse_params(request: web.Request) -> dict[str, Any]:
        """Merge query string and body (JSON, urlencoded or multipart) into typed params."""
        raw: dict[str, Any] = dict(request.query)
        content_type = request.content_type
        if content_type == "application/json":
            text = await request.text()
            if text.strip():
                try:
                    body = json.loads(text)
                except ValueError as exc:
                    raise _bad_request("can't parse JSON object") from exc
                if not isinstance(body, dict):
                    raise _bad_request("JSON object expected")
                raw.update(body)
        elif content_type == "multipart/form-data":
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                if part.filename is not None:
                    raw[part.name] = UploadedFile(
                        field=part.name,
                        filename=part.filename,
                        content_type=part.headers.get("Content-Type"),
                        data=bytes(await part.read()),
                    )
                else:
                    raw[part.name] = await part.text()
        elif request.can_read_body:
            raw.update(await request.post())
        params = {key: _coerce(key, value) for key, value in raw.items()}
        for key, value in params.items():
            if isinstance(value, str) and value.startswith("attach://"):
                attached = params.get(value[9:])
                if isinstance(attached, UploadedFile):
                    params[key] = attached
        return params

    # ------------------------------------------------------------------ shared state helpers

    def _wake_pollers(self) -> None:
        self._update_event.set()
        self._update_event = asyncio.Event()

    def _wake_waiters(self) -> None:
        self._outgoing_event.set()
        self._outgoing_event = asyncio.Event()

    def _user(
        self,
        user_id: int,
        first_name: str | None,
        username: str | None,
        last_name: str | None,
        language_code: str | None,
    ) -> JSONDict:
        user = self._users.setdefault(
            user_id, {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
        )
        for key, value in (
            ("first_name", first_name),
            ("last_name", last_name),
            ("username", username),
            ("language_code", language_code),
        ):
            if value is not None:
                user[key] = value
        return copy.deepcopy(user)

    def _chat_for(
        self, user: JSONDict, chat_type: str, chat_id: int | None, title: str | None
    ) -> JSONDict:
        user_id = user["id"]
        if chat_type == "private":
            if chat_id not in (None, user_id):
                raise ValueError("a private chat's id is the user's id")
            chat = {"id": user_id, "first_name": user["first_name"], "type": "private"}
            for key in ("last_name", "username"):
                if key in user:
                    chat[key] = user[key]
        elif chat_type in ("group", "supergroup"):
            if chat_id is None:
                chat_id = -user_id if chat_type == "group" else int(f"-100{user_id}")
            known = self._chats.get(chat_id, {})
            chat = {"id": chat_id, "title": title or known.get("title", "Testgruppe")}
            chat["type"] = chat_type
        else:
            raise ValueError(f"unsupported chat_type {chat_type!r}")
        self._chats[chat["id"]] = chat
        return copy.deepcopy(chat)

    def _next_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _remember(self, update: JSONDict) -> None:
        """Record chats, users and messages of a queued update for later bot calls."""
        for key in _MESSAGE_KEYS:
            message = update.get(key)
            if not isinstance(message, dict) or "chat" not in message:
                continue
            chat = message["chat"]
            self._chats.setdefault(chat["id"], copy.deepcopy(chat))
            if "from" in message:
                self._users.setdefault(message["from"]["id"], copy.deepcopy(message["from"]))
            if "message_id" in message:
                message_id = int(message["message_id"])
                self._messages[(chat["id"], message_id)] = message
                last = self._last_message_id.get(chat["id"], 0)
                self._last_message_id[chat["id"]] = max(last, message_id)
        query = update.get("callback_query")
        if isinstance(query, dict) and "id" in query:
            self._open_callbacks.add(str(query["id"]))

    def _target_chat(self, params: Mapping[str, Any]) -> JSONDict:
        chat_ref = params.get("chat_id")
        if chat_ref is None or chat_ref == "":
            raise _bad_request("chat_id is empty")
        chat: JSONDict | None = None
        if isinstance(chat_ref, int):
            chat = self._chats.get(chat_ref)
        elif isinstance(chat_ref, str) and chat_ref.startswith("@"):
            chat = next(
                (c for c in self._chats.values() if c.get("username") == chat_ref[1:]), None
            )
        if chat is None:
            raise _bad_request("chat not found")
        if chat["type"] == "private" and chat["id"] in self._blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        if chat["id"] in self._removed:
            raise _ApiError(403, f"Forbidden: bot was kicked from the {chat['type']} chat")
        return chat

    def _bot_message(self, params: Mapping[str, Any]) -> JSONDict:
        chat = self._target_chat(params)
        message = self._messages.get((chat["id"], _int(params.get("message_id"))))
        if message is None:
            raise _bad_request("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise _bad_request("message can't be edited")
        return message

    @staticmethod
    def _formatted(
        text: Any, parse_mode: Any, entities: Any, *, what: str
    ) -> tuple[str, list[JSONDict]]:
        """Apply parse_mode (HTML is parsed, others kept verbatim) plus Telegram's auto-links."""
        text = "" if text is None else str(text)
        parsed: list[JSONDict] = []
        if isinstance(entities, list):
            parsed = entities
        elif isinstance(parse_mode, str) and parse_mode.lower() == "html":
            text, parsed = _parse_html(text)
        elif parse_mode not in (None, "", "Markdown", "MarkdownV2"):
            raise _bad_request(f"unsupported parse_mode {parse_mode}")
        if what == "text" and not text.strip():
            raise _bad_request("message text is empty")
        limit = _MAX_TEXT if what == "text" else _MAX_CAPTION
        if _utf16_len(text) > limit:
            raise _bad_request(
                "message is too long" if what == "text" else "message caption is too long"
            )
        spans = [(e["offset"], e["offset"] + e["length"]) for e in parsed]
        auto = [e for e in _auto_entities(text) if not any(s <= e["offset"] < t for s, t in spans)]
        merged = sorted(parsed + auto, key=lambda e: (e["offset"], -e["length"]))
        return text, merged

    @staticmethod
    def _inline_markup(markup: Any) -> JSONDict | None:
        """Validate reply_markup; return what Telegram echoes (inline keyboards only)."""
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        keyboard = markup.get("inline_keyboard")
        if keyboard is None:
            return None
        if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
            raise _bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        for button in itertools.chain.from_iterable(keyboard):
            if not button.get("text"):
                raise _bad_request("text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise _bad_request("BUTTON_DATA_INVALID")
        return copy.deepcopy(markup) if keyboard else None

    def _reply_to(self, chat_id: int, params: Mapping[str, Any]) -> JSONDict | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply"))
        else:
            message_id = params.get("reply_to_message_id")
            allow_missing = bool(params.get("allow_sending_without_reply"))
        if message_id is None:
            return None
        replied = self._messages.get((chat_id, _int(message_id)))
        if replied is None and not allow_missing:
            raise _bad_request("message to be replied not found")
        return None if replied is None else copy.deepcopy(replied)

    def _post_message(
        self, method: str, chat: JSONDict, params: Mapping[str, Any], content: JSONDict
    ) -> JSONDict:
        """Create a bot message in ``chat``, record it as outgoing and return it."""
        markup = self._inline_markup(params.get("reply_markup"))
        reply = self._reply_to(chat["id"], params)
        message: JSONDict = {
            "message_id": self._next_message_id(chat["id"]),
            "from": {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")},
            "chat": copy.deepcopy(chat),
            "date": int(time.time()),
        }
        if reply is not None:
            message["reply_to_message"] = reply
        message.update(content)
        if markup is not None:
            message["reply_markup"] = markup
        self._messages[(chat["id"], message["message_id"])] = message
        self._record(method, message)
        return copy.deepcopy(message)

    def _record(self, method: str, message: JSONDict) -> None:
        self._outgoing.append(
            BotMessage(
                method=method,
                chat_id=message["chat"]["id"],
                message_id=message["message_id"],
                text=message.get("text", message.get("caption")),
                reply_markup=copy.deepcopy(message.get("reply_markup")),
                message=copy.deepcopy(message),
                time=time.monotonic(),
            )
        )
        self._wake_waiters()

    def _store_file(self, data: bytes | None, folder: str, suffix: str, prefix: str) -> _StoredFile:
        number = next(self._file_counter)
        stored = _StoredFile(
            file_id=f"{prefix}{secrets.token_urlsafe(40)}",
            file_unique_id=f"AQAD{number:04d}{secrets.token_urlsafe(6)}",
            data=data,
            file_path=f"{folder}/file_{number}{suffix}",
        )
        self._files[stored.file_id] = stored
        self._file_paths[stored.file_path] = stored
        return stored

    def _input_file(self, value: Any, kind: str) -> tuple[UploadedFile | None, _StoredFile | None]:
        """Resolve a photo/document parameter: an upload, a known file_id or an URL."""
        if isinstance(value, UploadedFile):
            return value, None
        if isinstance(value, str) and value in self._files:
            return None, self._files[value]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return None, None
        if value is None or value == "":
            raise _bad_request(f"there is no {kind} in the request")
        raise _bad_request("wrong file identifier/HTTP URL specified")

    # ------------------------------------------------------------------ Bot API methods

    async def _get_me(self, params: dict[str, Any]) -> JSONDict:
        return copy.deepcopy(self.bot_user)

    async def _get_updates(self, params: dict[str, Any]) -> list[JSONDict]:
        if self.webhook_url is not None:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active;"
                " use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        if offset is not None:
            offset = _int(offset)
            if offset < 0:
                self._updates = self._updates[offset:]
            else:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
        limit = min(max(_int(params.get("limit", 100)), 1), 100)
        timeout = max(_int(params.get("timeout") or 0), 0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else None

        # A newer getUpdates request terminates an older one, as on Telegram.
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise _ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request;"
                    " make sure that only one bot instance is running",
                )
            if self.webhook_url is not None:
                raise _ApiError(409, "Conflict: terminated by setWebhook request")
            batch = [u for u in self._updates if self._is_allowed(u)][:limit]
            remaining = deadline - loop.time()
            if batch or remaining <= 0:
                for update in batch:
                    self._deliveries[update["update_id"]] += 1
                return copy.deepcopy(batch)
            event = self._update_event
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def _is_allowed(self, update: JSONDict) -> bool:
        kind = next((key for key in update if key != "update_id"), "")
        if self._allowed_updates is None:
            return kind not in _OPT_IN_UPDATES
        return kind in self._allowed_updates

    async def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url") or ""
        if not url:
            return await self._delete_webhook(params)
        if not str(url).startswith("https://"):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook_url = str(url)
        self._wake_pollers()
        return True

    async def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(name)):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        return True

    async def _send_message(self, params: dict[str, Any]) -> JSONDict:
        chat = self._target_chat(params)
        text, entities = self._formatted(
            params.get("text"), params.get("parse_mode"), params.get("entities"), what="text"
        )
        content: JSONDict = {"text": text}
        if entities:
            content["entities"] = entities
        return self._post_message("sendMessage", chat, params, content)

    async def _edit_message_text(self, params: dict[str, Any]) -> JSONDict | bool:
        if params.get("inline_message_id"):
            return True
        message = self._bot_message(params)
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        text, entities = self._formatted(
            params.get("text"), params.get("parse_mode"), params.get("entities"), what="text"
        )
        markup = self._inline_markup(params.get("reply_markup"))
        if (
            text == message["text"]
            and entities == message.get("entities", [])
            and markup == message.get("reply_markup")
        ):
            raise _bad_request(_NOT_MODIFIED)
        message["text"] = text
        _set_or_drop(message, "entities", entities or None)
        _set_or_drop(message, "reply_markup", markup)
        message["edit_date"] = int(time.time())
        self._record("editMessageText", message)
        return copy.deepcopy(message)

    async def _edit_message_reply_markup(self, params: dict[str, Any]) -> JSONDict | bool:
        if params.get("inline_message_id"):
            return True
        message = self._bot_message(params)
        markup = self._inline_markup(params.get("reply_markup"))
        if markup == message.get("reply_markup"):
            raise _bad_request(_NOT_MODIFIED)
        _set_or_drop(message, "reply_markup", markup)
        message["edit_date"] = int(time.time())
        self._record("editMessageReplyMarkup", message)
        return copy.deepcopy(message)

    async def _set_my_description(self, params: dict[str, Any]) -> bool:
        if len(str(params.get("description") or "")) > 512:
            raise _bad_request("BOT_DESCRIPTION_INVALID")
        return True

    async def _set_my_short_description(self, params: dict[str, Any]) -> bool:
        if len(str(params.get("short_description") or "")) > 120:
            raise _bad_request("BOT_SHORT_DESCRIPTION_INVALID")
        return True

    async def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._open_callbacks:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        if len(str(params.get("text") or "")) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        self._open_callbacks.discard(query_id)
        return True

    async def _send_chat_action(self, params: dict[str, Any]) -> bool:
        self._target_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    def _caption(self, params: Mapping[str, Any]) -> JSONDict:
        if params.get("caption") in (None, ""):
            return {}
        caption, entities = self._formatted(
            params["caption"],
            params.get("parse_mode"),
            params.get("caption_entities"),
            what="caption",
        )
        content: JSONDict = {"caption": caption}
        if entities:
            content["caption_entities"] = entities
        return content

    async def _send_photo(self, params: dict[str, Any]) -> JSONDict:
        chat = self._target_chat(params)
        upload, known = self._input_file(params.get("photo"), "photo")
        if known is not None:
            sizes = copy.deepcopy(known.meta["photo"])
        else:
            data = upload.data if upload else None
            dimensions = _image_size(data) if data is not None else (800, 600)
            if dimensions is None:
                raise _bad_request("IMAGE_PROCESS_FAILED")
            sizes = self._photo_sizes(data, dimensions)
        content = {"photo": sizes, **self._caption(params)}
        if params.get("has_spoiler"):
            content["has_media_spoiler"] = True
        return self._post_message("sendPhoto", chat, params, content)

    def _photo_sizes(self, data: bytes | None, dimensions: tuple[int, int]) -> list[JSONDict]:
        """Telegram's thumbnails (90/320/800/1280 px) up to the original, largest last."""
        width, height = dimensions
        longest = max(width, height, 1)
        sides = [s for s in (90, 320, 800, 1280) if s < longest] + [min(longest, 2560)]
        sizes: list[JSONDict] = []
        for side in sides:
            scale = side / longest
            is_original = side == sides[-1]
            stored = self._store_file(
                data if is_original else None, "photos", ".jpg", "AgACAgQAAxkD"
            )
            full_size = len(data) if data is not None else width * height // 8
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": max(1, int(full_size * scale * scale)),
                    "width": max(1, round(width * scale)),
                    "height": max(1, round(height * scale)),
                }
            )
        for size in sizes:
            self._files[size["file_id"]].meta = {"photo": sizes, "size": size}
        return sizes

    async def _send_document(self, params: dict[str, Any]) -> JSONDict:
        chat = self._target_chat(params)
        upload, known = self._input_file(params.get("document"), "document")
        if known is not None:
            document = copy.deepcopy(known.meta["document"])
        else:
            filename = (upload.filename if upload else None) or "document"
            data = upload.data if upload else None
            suffix = "." + filename.rsplit(".", 1)[1] if "." in filename else ""
            stored = self._store_file(data, "documents", suffix, "BQACAgQAAxkD")
            document = {
                "file_name": filename,
                "mime_type": (upload.content_type if upload else None)
                or "application/octet-stream",
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(data) if data is not None else 1024,
            }
            stored.meta = {"document": document}
        return self._post_message(
            "sendDocument", chat, params, {"document": document, **self._caption(params)}
        )

    async def _get_file(self, params: dict[str, Any]) -> JSONDict:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _bad_request("invalid file_id")
        result: JSONDict = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        if stored.data is not None:
            result["file_size"] = len(stored.data)
            result["file_path"] = stored.file_path
        return result


def _coerce(key: str, value: Any) -> Any:
    """Turn form values back into JSON types; Telegram treats every field as typed JSON."""
    if isinstance(value, str) and key not in _STRING_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise _bad_request(f"invalid integer value {value!r}") from exc


def _set_or_drop(target: JSONDict, key: str, value: Any) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def iter_buttons(markup: JSONDict | None) -> Iterable[JSONDict]:
    """All inline buttons of a reply_markup, row by row."""
    return itertools.chain.from_iterable((markup or {}).get("inline_keyboard", []))


@contextlib.asynccontextmanager
async def polling(
    application: Application, *, timeout: int = 1, **start_polling_kwargs: Any
) -> AsyncIterator[Application]:
    """Run ``application`` with long polling for the duration of the block, then stop it.

    Short poll timeouts keep shutdown fast: PTB's final getUpdates waits for none of them.
    """
    async with application:
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=0, timeout=timeout, **start_polling_kwargs
        )
        await application.start()
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()


def tiny_png(width: int, height: int) -> bytes:
    """A valid, tiny grayscale PNG, so the upload needs no image library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )
