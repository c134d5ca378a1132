"""Button actions: the compact strings behind inline buttons (Telegram allows 64 bytes).

Every button the conversation offers is encoded here and parsed back here, so a forged, truncated
or outdated string can only ever parse to ``None`` — never to an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

MAX_BYTES = 64
SEP = "|"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,40}")  # used with fullmatch: "$" would allow "\n"

Verb = Literal[
    "menu",
    "topic",
    "entry",
    "choice",
    "none",
    "feedback",
    "contacts",
    "contact",
    "related",
    "forget",
    "ignore",
    "handoff",
    "consent",
    "name",
    "rewrite",
    "decline",
    "respond",
    "resolve",
    "english",
]
_CODES: dict[Verb, str] = {
    "menu": "m",
    "topic": "t",
    "entry": "e",  # an entry opened while browsing a topic
    "choice": "c",
    "none": "n",
    "feedback": "f",
    "contacts": "k",
    "contact": "p",  # one contact card from the /kontakt list
    "related": "r",  # a "Passt auch:" offer under a card
    "forget": "v",  # /vergessen confirmed (1) or declined (0)
    "ignore": "x",
    # The handoff to the counselling office (bot/chat/handoff.py).
    "handoff": "h",  # "Frage an die Beratungsstelle": question id and card, "_" for none
    "consent": "s",  # send the draft shown
    "name": "g",  # add (1) or remove (0) the first name
    "rewrite": "w",  # word the question anew
    "decline": "d",  # send nothing
    "respond": "a",  # "Antworten" under an answer of the counselling office: ticket number
    "resolve": "z",  # "Erledigt" under such an answer: ticket number
    "english": "l",  # "🇬🇧 In English" under a German reply to an English question: question id
}
_VERBS = {code: verb for verb, code in _CODES.items()}
_ARITY: dict[Verb, int] = {
    "menu": 0,
    "topic": 1,
    "entry": 1,
    "choice": 2,
    "none": 1,
    "feedback": 3,
    "contacts": 0,
    "contact": 1,
    "related": 1,
    "forget": 1,
    "ignore": 1,
    "handoff": 2,
    "consent": 1,
    "name": 2,
    "rewrite": 1,
    "decline": 1,
    "respond": 1,
    "resolve": 1,
    "english": 1,
}
_FLAGS: dict[Verb, int] = {"feedback": 2, "forget": 0, "name": 1}  # must be "0" or "1"
# Buttons of the handoff: the Telegram side handles them in handlers/handoff.py.
HANDOFF: frozenset[Verb] = frozenset(
    {"handoff", "consent", "name", "rewrite", "decline", "respond", "resolve"}
)


@dataclass(frozen=True, slots=True)
class Action:
    verb: Verb
    args: tuple[str, ...] = ()


def encode(verb: Verb, *args: str) -> str:
    """Build callback data; raises ValueError for arguments that would not round-trip."""
    if len(args) != _ARITY[verb] or not all(_TOKEN.fullmatch(a) for a in args):
        raise ValueError(f"invalid action arguments for {verb}: {args!r}")
    data = SEP.join((_CODES[verb], *args))
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"action too long: {data!r}")
    return data


def decode(data: str | None) -> Action | None:
    """Parse callback data from a button; anything unexpected yields None."""
    if not data or len(data.encode("utf-8", "replace")) > MAX_BYTES:
        return None
    code, *args = data.split(SEP)
    verb = _VERBS.get(code)
    if verb is None or len(args) != _ARITY[verb] or not all(_TOKEN.fullmatch(a) for a in args):
        return None
    if verb in _FLAGS and args[_FLAGS[verb]] not in ("0", "1"):
        return None
    if verb in ("respond", "resolve") and not args[0].isdigit():
        return None  # a ticket number
    return Action(verb, tuple(args))
