"""Finding entries for a question: the index, and the library that keeps a knowledge base with
its index in service (hot reload included)."""

from bot.search.index import SearchIndex, SearchResult
from bot.search.library import (
    Library,
    Reload,
    Snapshot,
    build_snapshot,
    fingerprint,
    reload_knowledge,
)
from bot.search.selftest import self_test
from bot.search.textnorm import Analyzer, fold

__all__ = [
    "Analyzer",
    "Library",
    "Reload",
    "SearchIndex",
    "SearchResult",
    "Snapshot",
    "build_snapshot",
    "fingerprint",
    "fold",
    "reload_knowledge",
    "self_test",
]
