"""Follow-up questions about the last answer: what a chat remembers, and how a follow-up is told
from a new question.

The memory holds, per chat, only which card was shown last and the search's runner-ups — in
this process's memory, for a few minutes, never written anywhere; a restart forgets everything.
The language knowledge (which words mean "who is responsible", "since when", …) is data, read
from ``followups.<lang>.yaml``.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from bot.search.textnorm import fold

HERE = Path(__file__).parent
TTL_SECONDS = 600.0  # ten minutes after the last card or follow-up
MAX_CHATS = 10_000
MAX_WORDS = 64  # a follow-up is short; a 4096-character message is judged by its start

FollowupKind = Literal["difference", "target", "contact", "status", "more"]
_KINDS: dict[str, FollowupKind] = {
    "unterschied": "difference",
    "zielgruppe": "target",
    "kontakt": "contact",
    "status": "status",
    "mehr": "more",
}
_WORD = re.compile(r"[a-z0-9]+")


# --- memory ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Turn:
    """What a follow-up can refer to: the card shown last and the search's runner-ups."""

    entry_id: str | None  # None after "Meinten Sie …?" until a choice is made
    runner_ups: tuple[str, ...] = ()
    # The card shown before an "I don't know" (with or without guesses): people go on asking
    # about it ("bis welches Alter?" → unknown → "und wer ist zuständig?").
    card: str | None = None


class ChatMemory:
    """The last card per chat, in memory only, forgotten after ``ttl`` seconds.

    Bounded to ``max_chats`` (the longest-idle chat goes first). Not locked: the bot calls the
    conversation from its event loop only. ``clock`` is injectable so tests can let time pass
    without waiting.
    """

    def __init__(
        self,
        *,
        ttl: float = TTL_SECONDS,
        max_chats: int = MAX_CHATS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self._max_chats = max_chats
        self._clock = clock
        self._turns: OrderedDict[int | None, tuple[float, Turn]] = OrderedDict()

    def remember(self, chat: int | None, turn: Turn) -> None:
        self._turns.pop(chat, None)
        self._turns[chat] = (self._clock(), turn)
        while len(self._turns) > self._max_chats:
            self._turns.popitem(last=False)

    def recall(self, chat: int | None) -> Turn | None:
        """The last turn of the chat, or None when there is none or it has expired."""
        found = self._turns.get(chat)
        if found is None:
            return None
        at, turn = found
        if self._clock() - at > self.ttl:
            del self._turns[chat]
            return None
        return turn

    def forget(self, chat: int | None) -> None:
        self._turns.pop(chat, None)

    def __len__(self) -> int:
        return len(self._turns)


# --- language knowledge -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pattern:
    """A folded word, or a word start when ``prefix``."""

    word: str
    prefix: bool = False

    def matches(self, word: str) -> bool:
        return word.startswith(self.word) if self.prefix else word == self.word


Cue = tuple[Pattern, ...]


@dataclass(frozen=True, slots=True)
class Group:
    """A group of people a target-group follow-up may ask about ("Beamte")."""

    id: str
    name: str
    patterns: tuple[Pattern, ...]

    def named_in(self, text: str) -> bool:
        return any(p.matches(w) for w in words(text) for p in self.patterns)


@dataclass(frozen=True, slots=True)
class Followup:
    """A question about the last card: what it asks, about whom, and what else it names."""

    kind: FollowupKind
    groups: tuple[Group, ...] = ()
    rest: str = ""  # words that are neither cue, group nor filler: maybe another subject
    refers: bool = False  # a word points back ("das", "da", "it"): about what is on screen
    kinds: tuple[FollowupKind, ...] = ()  # what its cue words ask, before named groups count

    @property
    def cued(self) -> bool:
        """False when only a named group ("und für Beamte?") made it a follow-up."""
        return bool(self.kinds)

    def regarding(self, title: str) -> Followup:
        """The follow-up about a card with this title. Groups the title names itself say
        which offer is meant, not whom the question is about: "Gibt es den Stammtisch für
        Väter schon?" asks for the status of the "Väternetzwerk", not whether fathers may
        join. Without another cue ("und für Väter?"), or with one that asks for whom ("gilt
        das für Väter?"), the groups still ask for whom."""
        if "target" in self.kinds or not self.groups:
            return self
        if not all(g.named_in(title) for g in self.groups):
            return self
        kind = _choose(list(self.kinds), False, self.refers)
        return self if kind is None else replace(self, kind=kind, groups=())


@dataclass(frozen=True)
class FollowupLexicon:
    """The follow-up words of one language, loaded once and handed to the conversation."""

    cues: Mapping[FollowupKind, tuple[Cue, ...]]
    references: frozenset[str]
    fillers: frozenset[str]
    groups: tuple[Group, ...]
    everyone: frozenset[str]
    # The cues by their first word, built once: every message is read for follow-ups, and
    # trying ~150 cues at every word cost a third of a millisecond per message.
    _exact: Mapping[str, tuple[tuple[FollowupKind, Cue], ...]] = field(
        init=False, repr=False, compare=False
    )
    _prefixed: Mapping[str, tuple[tuple[FollowupKind, Cue], ...]] = field(
        init=False, repr=False, compare=False
    )
    # The same for group words (by group position: the first group listed wins), which were
    # tried one by one at every word: a third of the time the conversation spent per message.
    _group_exact: Mapping[str, int] = field(init=False, repr=False, compare=False)
    _group_prefixed: Mapping[str, tuple[tuple[int, Pattern], ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        exact: dict[str, list[tuple[FollowupKind, Cue]]] = {}
        prefixed: dict[str, list[tuple[FollowupKind, Cue]]] = {}
        for kind, cues in self.cues.items():
            for cue in cues:
                first = cue[0]
                if first.prefix:
                    prefixed.setdefault(first.word[:1], []).append((kind, cue))
                else:
                    exact.setdefault(first.word, []).append((kind, cue))
        object.__setattr__(self, "_exact", {k: tuple(v) for k, v in exact.items()})
        object.__setattr__(self, "_prefixed", {k: tuple(v) for k, v in prefixed.items()})
        group_exact: dict[str, int] = {}
        group_prefixed: dict[str, list[tuple[int, Pattern]]] = {}
        for position, group in enumerate(self.groups):
            for pattern in group.patterns:
                if pattern.prefix:
                    group_prefixed.setdefault(pattern.word[:1], []).append((position, pattern))
                else:
                    group_exact.setdefault(pattern.word, position)
        object.__setattr__(self, "_group_exact", group_exact)
        object.__setattr__(
            self, "_group_prefixed", {k: tuple(v) for k, v in group_prefixed.items()}
        )

    def _group_of(self, word: str) -> Group | None:
        """The first listed group one of whose words ``word`` is."""
        best = self._group_exact.get(word)
        for position, pattern in self._group_prefixed.get(word[:1], ()):
            if best is not None and position >= best:
                break  # listed in group order: nothing later can win
            if pattern.matches(word):
                best = position
                break
        return None if best is None else self.groups[best]

    def _starting(self, word: str) -> Iterable[tuple[FollowupKind, Cue]]:
        """The cues whose first word matches ``word``."""
        yield from self._exact.get(word, ())
        for kind, cue in self._prefixed.get(word[:1], ()):
            if cue[0].matches(word):
                yield kind, cue

    @classmethod
    def load(cls, language: str = "de", directory: Path = HERE) -> FollowupLexicon:
        path = directory / f"followups.{language}.yaml"
        raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(
            cues={
                _KINDS[name]: tuple(_cue(text) for text in cues)
                for name, cues in raw["arten"].items()
            },
            references=frozenset(fold(w) for w in raw["bezug"]),
            fillers=frozenset(fold(w) for w in raw["fuellwörter"]),
            groups=tuple(
                Group(gid, g["name"], tuple(_pattern(w) for w in g["wörter"]))
                for gid, g in raw["gruppen"].items()
            ),
            everyone=frozenset(fold(w) for w in raw["alle"]),
        )

    def detect(self, question: str) -> Followup | None:
        """The follow-up a question asks, or None when it reads as a question of its own."""
        found = words(question)[:MAX_WORDS]
        used = [False] * len(found)
        hit: set[FollowupKind] = set()
        for start, word in enumerate(found):
            for asked, cue in self._starting(word):
                end = start + len(cue)
                if end > len(found) or not all(
                    p.matches(w) for p, w in zip(cue[1:], found[start + 1 : end], strict=True)
                ):
                    continue
                hit.add(asked)
                for i in range(start, end):
                    used[i] = True
        kinds = [k for k in self.cues if k in hit]
        groups: list[Group] = []
        for i, word in enumerate(found):
            group = self._group_of(word)
            if group is not None and not used[i]:
                used[i] = True
                if group not in groups:
                    groups.append(group)
        refers = any(w in self.references for w in found)
        kind = _choose(kinds, bool(groups), refers)
        if kind is None:
            return None
        rest = " ".join(
            w for w, u in zip(found, used, strict=True) if not u and w not in self.fillers
        )
        return Followup(kind, tuple(groups), rest, refers=refers, kinds=tuple(kinds))

    def says_everyone(self, target_group: str) -> bool:
        """Whether a target group speaks of everyone ("alle Beschäftigten") without names."""
        return any(w in self.everyone for w in words(target_group))


def _choose(kinds: list[FollowupKind], groups: bool, refers: bool) -> FollowupKind | None:
    """Which follow-up a question asks when several cues occur in it.

    A named group makes it a target-group question unless it asks for a difference or a
    contact; a group alone counts only with a word that points back ("und für Beamte?").
    "Seit wann gilt das?" asks for the status, "Gilt das für mich?" for the target group.
    """
    if "difference" in kinds:
        return "difference"
    if groups and "contact" not in kinds and (kinds or refers):
        return "target"
    if "target" in kinds and "status" not in kinds:
        return "target"
    others = [k for k in kinds if k != "target"]
    return others[0] if others else None


def words(text: str) -> list[str]:
    """Folded words, as cues and groups are compared."""
    return _WORD.findall(fold(text))


def _pattern(text: str) -> Pattern:
    word = str(text).strip()
    prefix = word.endswith("*")
    folded = words(word.rstrip("*"))
    return Pattern("".join(folded), prefix)


def _cue(text: str) -> Cue:
    parts = str(text).split()
    return tuple(_pattern(p) for p in parts)
