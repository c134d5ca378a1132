"""Self-test of a knowledge base: does every example question find its own entry first?

The most common cause of a failure is a copied sentence: an example question that stands word
for word in another entry (as its example question or title). The collision then names that
twin, so the admin knows which of the two lines to change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.knowledge.model import Entry
from bot.search.index import SearchIndex
from bot.search.textnorm import fold


@dataclass(frozen=True, slots=True)
class Twin:
    """Where the same sentence stands in another entry."""

    entry_id: str
    field: str  # "Beispielfrage" or "Titel"
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class Collision:
    entry_id: str
    question: str
    found: str | None  # entry found first instead, None when nothing was found
    twin: Twin | None = None

    def __str__(self) -> str:
        other = f"findet zuerst '{self.found}'" if self.found else "findet nichts"
        text = f"Eintrag '{self.entry_id}': Beispielfrage „{self.question}“ {other}"
        if self.twin is None:
            return text
        twin = self.twin
        where = f"{twin.file}, Zeile {twin.line}" if twin.file else "unbekannte Stelle"
        return (
            f"{text} – sie steht wortgleich als {twin.field} bei '{twin.entry_id}' ({where})."
            " Lösung: die Frage bei einem der beiden Einträge streichen oder umformulieren."
        )


def self_test(index: SearchIndex) -> list[Collision]:
    """Every example question that does not find its own entry first."""
    entries = index.kb.entries.values()
    sentences = _sentences(entries)
    collisions = []
    for entry in entries:
        for question in entry.examples:
            best = index.search(question).best
            if best is None or best.entry.id != entry.id:
                found = best.entry.id if best else None
                twin = _twin(sentences.get(_wording(question), []), entry.id, found)
                collisions.append(Collision(entry.id, question, found, twin))
    return collisions


def _wording(text: str) -> str:
    """Word for word: the same words in the same order, whatever the case or punctuation."""
    return " ".join(re.findall(r"\w+", fold(text)))


def _sentences(entries: Iterable[Entry]) -> dict[str, list[Twin]]:
    """Every title and example question by its wording, with where it stands."""
    found: dict[str, list[Twin]] = {}
    for entry in entries:
        places = [("Titel", entry.title), *(("Beispielfrage", q) for q in entry.examples)]
        for field, text in places:
            found.setdefault(_wording(text), []).append(
                Twin(entry.id, field, entry.file, entry.line)
            )
    return found


def _twin(candidates: list[Twin], own: str, found: str | None) -> Twin | None:
    """The twin in another entry; the one in the entry found instead comes first."""
    others = [t for t in candidates if t.entry_id != own]
    others.sort(key=lambda t: (t.entry_id != found, t.field != "Beispielfrage"))
    return others[0] if others else None
