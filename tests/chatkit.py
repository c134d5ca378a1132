"""Helpers for tests of the chat: a recording question log and checks of Telegram HTML."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from bot.chat.conversation import Button, Reply


@dataclass
class RecordingLog:
    """The question log as far as the conversation sees it; remembers every call."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    forgettable: int = 0

    def record(
        self,
        *,
        question: str,
        outcome: str,
        entry_id: str | None,
        topic: str | None,
        score: float | None,
        kb_version: str,
        channel: str,
        user_id: int | None,
        language: str = "de",
        followup: str | None = None,
    ) -> str:
        question_id = secrets.token_urlsafe(8)  # the shape the real log uses
        self.calls.append(
            (
                "record",
                {
                    "id": question_id,
                    "question": question,
                    "outcome": outcome,
                    "entry_id": entry_id,
                    "topic": topic,
                    "score": score,
                    "kb_version": kb_version,
                    "channel": channel,
                    "user_id": user_id,
                    "language": language,
                    "followup": followup,
                },
            )
        )
        return question_id

    def feedback(self, question_id: str, helpful: bool) -> None:
        self.calls.append(("feedback", {"id": question_id, "helpful": helpful}))

    def choice(self, question_id: str, entry_id: str | None) -> None:
        self.calls.append(("choice", {"id": question_id, "entry_id": entry_id}))

    def forget(self, user_id: int) -> int:
        self.calls.append(("forget", {"user_id": user_id}))
        return self.forgettable

    def records(self) -> list[dict[str, Any]]:
        return [args for name, args in self.calls if name == "record"]


TELEGRAM_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "blockquote",
}
BARE_AMPERSAND = re.compile(r"&(?!(?:amp|lt|gt|quot|#\d+|#x[0-9a-fA-F]+);)")


class _TagCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            self.problems.append(f"<{tag}>")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.problems.append(f"</{tag}>")


def assert_telegram_html(text: str) -> None:
    """What Telegram's HTML parse mode accepts: known tags, balanced, every '&' an entity."""
    assert BARE_AMPERSAND.search(text) is None, text
    checker = _TagCheck()
    checker.feed(text)
    checker.close()
    assert checker.problems == [] and checker.open == [], (checker.problems, checker.open, text)


def buttons(reply: Reply) -> list[Button]:
    return [b for row in reply.buttons for b in row]


def labels(reply: Reply) -> list[str]:
    return [b.label for b in buttons(reply)]


def action_of(reply: Reply, label_start: str) -> str:
    (button,) = [b for b in buttons(reply) if b.label.startswith(label_start)]
    assert button.action is not None
    return button.action
