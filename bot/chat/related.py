"""Related offers for the "Passt auch:" buttons under a card, from the knowledge base as it is.

Order: what belongs to the same measure (a service and the measure it implements), the
search's runner-ups, then the rest of the same topic (the same life situation). After 👎 the
runner-ups come first: the best match did not help, so the next-best should.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.knowledge.schema import Entry, KnowledgeBase
from bot.search.index import SearchResult

MAX_RELATED = 3
RUNNER_UP_RATIO = 0.6  # a runner-up scoring below this share of the best match is noise


def runner_ups(result: SearchResult) -> tuple[str, ...]:
    """Entry ids of the matches after the best that scored close enough to mean something."""
    best = result.best
    if best is None:
        return ()
    return tuple(m.entry.id for m in result.matches[1:] if m.score >= best.score * RUNNER_UP_RATIO)


def linked(kb: KnowledgeBase, entry: Entry) -> list[Entry]:
    """Entries tied to this one by measure number, in both directions."""
    found = [kb.by_ref[r] for r in entry.related_refs if r in kb.by_ref]
    if entry.ref:
        found += [e for e in kb.entries.values() if entry.ref in e.related_refs]
    return found


def related(
    kb: KnowledgeBase,
    entry: Entry,
    runners: Iterable[str] = (),
    *,
    next_best: bool = False,
    limit: int = MAX_RELATED,
) -> list[Entry]:
    """Up to ``limit`` offers worth a button under the card of ``entry``.

    A contact's card offers what that contact is responsible for.
    """
    ranked = [kb.entries[i] for i in runners if i in kb.entries]
    if entry.kind == "contact":
        groups = [ranked, [e for e in kb.entries.values() if entry.id in e.contacts]]
    else:
        same_topic = kb.in_topic(entry.topic) if entry.topic else []
        first = [ranked, linked(kb, entry)] if next_best else [linked(kb, entry), ranked]
        groups = [*first, same_topic]
    chosen: dict[str, Entry] = {}
    for group in groups:
        for other in group:
            if other.id != entry.id and other.kind != "contact" and other.id not in chosen:
                chosen[other.id] = other
    return list(chosen.values())[:limit]
