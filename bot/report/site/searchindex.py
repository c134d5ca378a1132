"""The browser search index, built once at build time with the project's own normalisation.

The portal has no server, so the index travels as a script file next to the pages. Entries are
indexed with the bot's own analyzer (``bot.search.textnorm.Analyzer``: folding, stop words,
expansions, Snowball stemming), passed in by the caller because the report room does not import
the search room. The index carries the analyzer's word lists and the stem of every word of the
knowledge base, so the browser's port of ``Analyzer.terms`` (static/suche.js) gives exactly the
bot's terms for every word the knowledge base contains (a browser test checks this on every
text of the bundled knowledge bases); unknown words and typos are matched by prefix and edit
distance instead.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any, Protocol

from bot.knowledge.lexicon import Lexicon
from bot.knowledge.model import Entry, KnowledgeBase


class TermAnalyzer(Protocol):
    """What the index needs of ``bot.search.textnorm.Analyzer``."""

    lexicon: Lexicon
    stop_words: frozenset[str]
    leader: str

    def words(self, text: str) -> list[str]: ...

    def stem(self, word: str) -> str: ...

    def terms(self, text: str) -> list[str]: ...


INDEX_VERSION = 1
SNIPPET = 180
"""Characters of the answer shown under a search result."""

# How much a term says about an entry, by where it occurs. A term found in several fields
# adds up, so a word in the title and the keywords outranks one only in the answer. The
# English index (English pages) adds the English wording with the weights of its German
# twin, and keeps the German wording, as the bot's own index does for English questions.
FIELD_WEIGHTS: dict[str, float] = {
    "title": 4.0,
    "synonyms": 3.0,
    "examples": 2.0,
    "topic": 1.0,
    "target_group": 1.0,
    "answer": 1.0,
    "title_en": 4.0,
    "synonyms_en": 3.0,
    "examples_en": 2.0,
    "topic_en": 1.0,
    "target_group_en": 1.0,
    "answer_en": 1.0,
}


def entry_fields(kb: KnowledgeBase, entry: Entry, language: str = "de") -> dict[str, str]:
    """The texts of an entry that the search looks at, by field; ``kb`` is the German one."""
    topic = kb.topics.get(entry.topic or "")
    fields = {
        "title": entry.title,
        "synonyms": " \n ".join(entry.synonyms),
        "examples": " \n ".join(entry.examples),
        "topic": topic.title if topic else "",
        "target_group": entry.target_group or "",
        "answer": entry.answer,
    }
    if language == "en":
        fields |= {
            "title_en": entry.title_en or "",
            "synonyms_en": " \n ".join(entry.synonyms_en),
            "examples_en": " \n ".join(entry.examples_en),
            "topic_en": (topic.title_en or "") if topic else "",
            "target_group_en": entry.target_group_en or "",
            "answer_en": entry.answer_en or "",
        }
    return fields


def kb_texts(kb: KnowledgeBase, language: str = "de") -> Iterable[str]:
    """Every text of a knowledge base that the portal shows or searches in ``language``."""
    for topic in kb.topics.values():
        yield from (t for t in (topic.title, topic.description, topic.note) if t)
        if language == "en":
            yield from (t for t in (topic.title_en, topic.description_en, topic.note_en) if t)
    for entry in kb.entries.values():
        yield from (entry.title, entry.answer, *entry.synonyms, *entry.examples)
        yield from (t for t in (entry.target_group, entry.note) if t)
        if language == "en":
            english = (entry.title_en, entry.answer_en, entry.target_group_en, entry.note_en)
            yield from (t for t in english if t)
            yield from (*entry.synonyms_en, *entry.examples_en)


def normaliser_data(
    kb: KnowledgeBase, analyzer: TermAnalyzer, language: str = "de"
) -> dict[str, Any]:
    """Everything ``Analyzer.terms`` knows besides its algorithm, for the browser's port."""
    lexicon = analyzer.lexicon
    vocabulary: set[str] = set()
    for text in kb_texts(kb, language):
        vocabulary.update(analyzer.words(text))
    for text in (*lexicon.expansions.values(), *lexicon.phrases.values(), *lexicon.leader_titles):
        vocabulary.update(analyzer.words(text))
    phrases = sorted(lexicon.phrases, key=len, reverse=True)
    return {
        "stop": sorted(analyzer.stop_words),
        "expansions": dict(sorted(lexicon.expansions.items())),
        # longest first, as the analyzer's alternation tries them
        "phrases": [[p, lexicon.phrases[p]] for p in phrases],
        "leaderStems": sorted({analyzer.stem(w) for w in lexicon.leader_titles}),
        "leaderStem": analyzer.leader,
        # "" where the stem is the word itself, to keep the file small
        "stems": {w: "" if analyzer.stem(w) == w else analyzer.stem(w) for w in sorted(vocabulary)},
    }


def build_index(
    kb: KnowledgeBase,
    analyzer: TermAnalyzer,
    *,
    urls: dict[str, str],
    labels: dict[str, str],
    language: str = "de",
) -> dict[str, Any]:
    """Postings per stemmed term with field weights and IDF, plus what a result line shows.

    ``kb`` is the German knowledge base (the English fields ride along on its entries);
    results show the wording of ``language``. ``urls`` maps entry ids to page paths relative
    to the search page, ``labels`` to the kind line ("Maßnahme 1.1.1 · Arbeitszeit · geplant").
    """
    entries = list(kb.entries.values())
    shown = kb.in_language(language).entries
    postings: dict[str, dict[int, float]] = {}
    for number, entry in enumerate(entries):
        for field, text in entry_fields(kb, entry, language).items():
            for term in analyzer.terms(text):
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
        "language": language,
        "norm": normaliser_data(kb, analyzer, language),
        "entries": [
            {
                "id": e.id,
                "title": shown[e.id].title,
                "ref": e.ref,
                "kind": e.kind,
                "label": labels[e.id],
                "url": urls[e.id],
                "snippet": snippet(shown[e.id].answer),
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
