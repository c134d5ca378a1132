"""The browser search index, built once at build time with the project's own normalisation.

The portal has no server, so the index travels as a script file next to the pages. Entries are
indexed with ``bot.search.textnorm.terms`` — the same folding, stop words, expansions and stemmer
the bot's search uses — and the index carries those word lists, so the browser's port of
``terms`` (static/suche.js) needs no copy of them; a browser test checks that both agree on
every example question of the bundled knowledge bases.
"""

from __future__ import annotations

import json
import math
from typing import Any

from bot.knowledge.schema import KIND_LABELS, Entry, KnowledgeBase
from bot.search import textnorm

INDEX_VERSION = 1
SNIPPET = 180
"""Characters of the answer shown under a search result."""

# How much a term says about an entry, by where it occurs. A term found in several fields
# adds up, so a word in the title and the keywords outranks one only in the answer.
FIELD_WEIGHTS: dict[str, float] = {
    "title": 4.0,
    "synonyms": 3.0,
    "examples": 2.0,
    "topic": 1.0,
    "target_group": 1.0,
    "answer": 1.0,
}


def entry_fields(kb: KnowledgeBase, entry: Entry) -> dict[str, str]:
    """The texts of an entry that the search looks at, by field."""
    topic = kb.topics.get(entry.topic or "")
    return {
        "title": entry.title,
        "synonyms": " \n ".join(entry.synonyms),
        "examples": " \n ".join(entry.examples),
        "topic": topic.title if topic else "",
        "target_group": entry.target_group or "",
        "answer": entry.answer,
    }


def normaliser_data() -> dict[str, Any]:
    """Everything ``terms`` knows besides its algorithm, for the browser's port of it."""
    return {
        "stop": sorted(textnorm.STOP_WORDS),
        "expansions": dict(sorted(textnorm.EXPANSIONS.items())),
        # order matters: the phrase pattern is an alternation tried left to right
        "phrases": list(textnorm._PHRASES.items()),
        "leaderStems": sorted(textnorm._LEADER_STEMS),
        "leaderStem": textnorm._LEADER_STEM,
    }


def build_index(
    kb: KnowledgeBase, entries: list[Entry], urls: dict[str, str], labels: dict[str, str]
) -> dict[str, Any]:
    """Postings per stemmed term with field weights and IDF, plus what a result line shows.

    ``urls`` maps entry ids to page paths relative to the search page, ``labels`` to the kind
    line ("Maßnahme 1.1.1 · Arbeitszeit · geplant").
    """
    postings: dict[str, dict[int, float]] = {}
    for number, entry in enumerate(entries):
        for field, text in entry_fields(kb, entry).items():
            for term in textnorm.terms(text):
                slot = postings.setdefault(term, {})
                slot[number] = slot.get(number, 0.0) + FIELD_WEIGHTS[field]
    total = len(entries)
    terms = {
        term: {
            "idf": round(math.log(1 + total / len(found)), 4),
            "p": [[n, w] for n, w in sorted(found.items())],
        }
        for term, found in sorted(postings.items())
    }
    return {
        "version": INDEX_VERSION,
        "norm": normaliser_data(),
        "entries": [
            {
                "id": e.id,
                "title": e.title,
                "ref": e.ref,
                "kind": KIND_LABELS[e.kind],
                "label": labels[e.id],
                "url": urls[e.id],
                "snippet": snippet(e.answer),
            }
            for e in entries
        ],
        "terms": terms,
    }


def snippet(text: str, limit: int = SNIPPET) -> str:
    """The start of an answer, cut at a word boundary."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,;:–-") + " …"


def index_script(index: dict[str, Any]) -> str:
    """The index as a classic script, because ``fetch`` of a JSON file fails under file://."""
    data = json.dumps(index, ensure_ascii=False, separators=(",", ":"))
    # "</" could end an inline script in some tools that inline it; keep the file inert there.
    data = data.replace("</", "<\\/")
    return f"window.VEREINBAR_SUCHINDEX = {data};\n"
