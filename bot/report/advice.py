"""Turn a group of unanswered questions into a concrete edit for the knowledge base.

The team should not have to work out YAML syntax from a report: each group comes with a
snippet that can be pasted either into the nearest existing entry or as a new entry.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.log.gaps import GapGroup, normalise

logger = logging.getLogger(__name__)

MAX_PHRASES = 5
_SLUG_WORD = re.compile(r"[a-z0-9]{3,}")


class EntryLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...


class MatchLike(Protocol):
    @property
    def entry(self) -> EntryLike: ...


class ResultLike(Protocol):
    @property
    def outcome(self) -> str: ...
    @property
    def matches(self) -> Sequence[MatchLike]: ...


class SearchLike(Protocol):
    """The part of ``bot.search.index.SearchIndex`` the report uses."""

    def search(self, question: str) -> ResultLike: ...


@dataclass(frozen=True, slots=True)
class Advice:
    """Nearest entry (if any) and the YAML to paste.

    ``weak``: the entry may not fit. ``answered_now``: today's knowledge base answers the
    question outright (it was edited since), so the group may need no work.
    """

    entry_id: str | None
    entry_title: str | None
    weak: bool
    snippet: str
    answer_rated_down: bool
    answered_now: bool = False


def advise(group: GapGroup, search_index: SearchLike | None, titles: Mapping[str, str]) -> Advice:
    """Nearest entry via the search index, else the entry the bot used most for the group."""
    entry_id, entry_title, outcome = _nearest(group, search_index)
    weak = outcome != "answered" and outcome != "ambiguous"
    if entry_id and not entry_title:
        entry_title = titles.get(entry_id)
    phrases = [text for text, _ in group.texts[:MAX_PHRASES]]
    parts = []
    if entry_id:
        parts.append(_example_snippet(entry_id, entry_title, phrases))
    if not entry_id or weak:
        parts.append(_new_entry_snippet(group.representative, phrases, alternative=bool(entry_id)))
    rated_down = group.unhelpful > group.unknown + group.gaps
    answered_now = outcome == "answered" and not rated_down
    return Advice(entry_id, entry_title, weak, "\n".join(parts), rated_down, answered_now)


def _nearest(
    group: GapGroup, search_index: SearchLike | None
) -> tuple[str | None, str | None, str | None]:
    """(entry id, title, search outcome); outcome None when it comes from the log."""
    if search_index is not None:
        try:
            result = search_index.search(group.representative)
            if result.matches:
                entry = result.matches[0].entry
                return str(entry.id), str(entry.title), str(result.outcome)
            return None, None, str(result.outcome)
        except Exception:
            logger.exception("Bericht: Suche nach dem nächsten Eintrag fehlgeschlagen")
    if group.entry_ids:
        return group.entry_ids[0][0], None, None
    return None, None, None


def _quote(text: str) -> str:
    """JSON strings are valid double-quoted YAML scalars, escapes included."""
    return json.dumps(text, ensure_ascii=False)


def _example_snippet(entry_id: str, title: str | None, phrases: list[str]) -> str:
    label = f"„{entry_id}“" + (f" ({title})" if title else "")
    lines = [f"# Eintrag {label}: unter „beispielfragen:“ ergänzen", "beispielfragen:"]
    lines += [f"  - {_quote(p)}" for p in phrases]
    return "\n".join(lines)


def _new_entry_snippet(representative: str, phrases: list[str], *, alternative: bool) -> str:
    intro = "# Oder neuer Eintrag" if alternative else "# Neuer Eintrag"
    lines = [
        f"{intro} – unter „massnahmen:“ oder „beratungsangebote:“ einfügen, TODO ausfüllen:",
        f"- id: {_slug(representative)}",
        '  titel: "TODO"',
        "  thema: TODO",
        '  antwort: "TODO"',
        '  zielgruppe: "TODO"',
        "  status: TODO",
        "  zustaendig: [TODO]",
        "  beispielfragen:",
    ]
    lines += [f"    - {_quote(p)}" for p in phrases]
    return "\n".join(lines)


def _slug(text: str) -> str:
    words = _SLUG_WORD.findall(normalise(text))[:3]
    return "neu-" + "-".join(words) if words else "neu-eintrag"
