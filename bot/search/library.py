"""The knowledge base currently in service, swapped atomically when admins edit the files."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from bot.knowledge.lexicon import language_file, load_lexicon
from bot.knowledge.schema import SEARCH_FILE, KnowledgeBase, Problem, validate
from bot.search.embedder import Embedder
from bot.search.index import SearchIndex

logger = logging.getLogger("vereinbar")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A knowledge base and its index, always replaced together."""

    kb: KnowledgeBase
    index: SearchIndex


def build_snapshot(
    directory: Path, *, embedder: Embedder | None = None, cache_dir: Path | None = None
) -> tuple[Snapshot | None, list[Problem]]:
    """Entries and the search lexicon are validated together and swapped together; with an
    embedder the entries' embeddings too (from ``cache_dir`` when the version is unchanged)."""
    kb, problems = validate(directory)
    lexicon, lexicon_problems = load_lexicon(directory)
    problems = [*problems, *lexicon_problems]
    if kb is None or lexicon is None:
        return None, problems
    semantic = None
    if embedder is not None:
        from bot.search.semantic import SemanticIndex, kb_texts

        semantic = SemanticIndex(kb_texts(kb), embedder, cache_dir=cache_dir, kb_version=kb.version)
    return Snapshot(kb, SearchIndex(kb, lexicon, semantic=semantic)), problems


Fingerprint = tuple[tuple[str, int, int, int, int, int], ...]


def fingerprint(directory: Path) -> Fingerprint:
    """Cheap change detection: names, sizes, modification times, modes and owners of the YAML
    files (the folder's own too), including the organisation's suche.yaml and the shared
    language file. Modes and owners so that a file made unreadable is noticed (a chmod leaves
    the modification time alone)."""
    found: list[tuple[str, int, int, int, int, int]] = []

    def facts(name: str, st: os.stat_result) -> tuple[str, int, int, int, int, int]:
        return (name, st.st_size, st.st_mtime_ns, st.st_mode, st.st_uid, st.st_gid)

    def entry(item: os.DirEntry[str]) -> tuple[str, int, int, int, int, int]:
        try:
            return facts(item.name, item.stat())
        except OSError:  # a dangling link: noticed as such, the other files still watched
            return (item.name, -1, -1, -1, -1, -1)

    try:
        st = directory.stat()  # the folder: mode only (its mtime moves with editors' temp files)
        found.append((".", 0, 0, st.st_mode, st.st_uid, st.st_gid))
        with os.scandir(directory) as it:
            found.extend(entry(e) for e in it if e.name.endswith((".yaml", ".yml")))
    except OSError:
        return tuple(found)
    language = language_file(directory)
    name = f"../{language.parent.name}/{language.name}"
    try:
        found.append(facts(name, language.stat()))
    except OSError:
        found.append((name, -1, -1, -1, -1, -1))
    assert SEARCH_FILE.endswith(".yaml")
    return tuple(sorted(found))


class Library:
    """Holds the last good snapshot; a failed reload never replaces it."""

    def __init__(
        self,
        snapshot: Snapshot,
        directory: Path,
        *,
        embedder: Embedder | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.directory = directory
        self._embedder = embedder
        self._cache_dir = cache_dir
        self._current = snapshot
        self._fingerprint = fingerprint(directory)

    @classmethod
    def open(
        cls,
        directory: Path,
        *,
        embedder: Embedder | None = None,
        cache_dir: Path | None = None,
    ) -> tuple[Library | None, list[Problem]]:
        snapshot, problems = build_snapshot(directory, embedder=embedder, cache_dir=cache_dir)
        if snapshot is None:
            return None, problems
        return cls(snapshot, directory, embedder=embedder, cache_dir=cache_dir), problems

    @property
    def current(self) -> Snapshot:
        return self._current

    def changed(self) -> bool:
        return fingerprint(self.directory) != self._fingerprint

    def reload(self) -> tuple[bool, list[Problem]]:
        """Validate the folder again; swap only when valid. Returns (swapped, problems)."""
        self._fingerprint = fingerprint(self.directory)
        snapshot, problems = build_snapshot(
            self.directory, embedder=self._embedder, cache_dir=self._cache_dir
        )
        if snapshot is None:
            return False, problems
        self._current = snapshot
        return True, problems


@dataclass(frozen=True, slots=True)
class Reload:
    """The outcome of a reload: what is in service now, and what the folder's check found."""

    swapped: bool
    version: str
    problems: tuple[Problem, ...]


def reload_knowledge(library: Library) -> Reload:
    """Validate the folder and swap; on errors the last good version keeps serving.

    Blocking (reads and indexes the files): call it from a thread inside the bot. Telling the
    team is left to the caller, which knows how to reach them.
    """
    swapped, problems = library.reload()
    kb = library.current.kb
    if swapped:
        logger.info(
            "Wissensbasis neu geladen: Version %s, %d Einträge", kb.version, len(kb.entries)
        )
    else:
        logger.error("Wissensbasis fehlerhaft, Version %s bleibt aktiv", kb.version)
    return Reload(swapped, kb.version, tuple(problems))
