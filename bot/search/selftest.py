"""Self-test of a knowledge base: does every example question find its own entry first?"""

from __future__ import annotations

from dataclasses import dataclass

from bot.search.index import SearchIndex


@dataclass(frozen=True, slots=True)
class Collision:
    entry_id: str
    question: str
    found: str | None  # entry found first instead, None when nothing was found

    def __str__(self) -> str:
        other = f"findet zuerst '{self.found}'" if self.found else "findet nichts"
        return f"Eintrag '{self.entry_id}': Beispielfrage „{self.question}“ {other}"


def self_test(index: SearchIndex) -> list[Collision]:
    collisions = []
    for entry in index.kb.entries.values():
        for question in entry.examples:
            best = index.search(question).best
            if best is None or best.entry.id != entry.id:
                collisions.append(Collision(entry.id, question, best.entry.id if best else None))
    return collisions
