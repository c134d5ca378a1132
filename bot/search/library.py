"""The knowledge base currently in service, swapped atomically when admins edit the files."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.knowledge.lexicon import language_file, load_lexicon, regional_clashes
from bot.knowledge.schema import SEARCH_FILE, KnowledgeBase, Problem, validate
from bot.search.embedder import Embedder
from bot.search.index import SearchIndex

if TYPE_CHECKING:
    from bot.search.semantic import SemanticIndex

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
    # Example questions are left out: some are written in the dialect on purpose ("Jitt et
    # dat och för Beamte?"), and reading them as standard German is exactly what is wanted.
    problems += regional_clashes(
        lexicon,
        {e.id: (e.title, *e.synonyms, e.answer) for e in kb.entries.values()},
        str(directory / SEARCH_FILE),
    )
    index = SearchIndex(kb, lexicon)
    problems += [
        Problem(
            str(directory / SEARCH_FILE),
            None,
            f"fehlende_themen: „{word}“ nennt auch Eintrag '{entry_id}' in Titel oder "
            "Stichworten – Fragen dazu werden mit diesem Eintrag beantwortet; das Wort hier "
            "oder dort streichen",
            "warnung",
        )
        for word, entry_id in index.named_missing()
    ]
    problems += [
        Problem(
            str(directory / SEARCH_FILE),
            None,
            f"themenfremd ({subject}): „{word}“ nennt auch Eintrag '{entry_id}' in Titel oder "
            "Stichworten – Fragen dazu bekommen diesen Eintrag statt des Hinweises; das Wort "
            "hier oder dort streichen",
            "warnung",
        )
        for word, subject, entry_id in index.named_off_topic()
    ]
    semantic = None
    if embedder is not None:
        from bot.search.semantic import SemanticIndex, kb_texts

        semantic = SemanticIndex(kb_texts(kb), embedder, cache_dir=cache_dir, kb_version=kb.version)
    return Snapshot(kb, index.with_semantic(semantic)), problems


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
    """Holds the last good snapshot; a failed reload never replaces it.

    With an embedder, the semantic signal joins each snapshot once its embeddings are ready:
    ``background=True`` (the bot, the terminal chat) serves words-only answers at once and
    swaps in the fused index when a worker thread has embedded the knowledge base (a first
    start costs ~15 s of CPU, later ones read the disk cache); ``False`` (``ask``, tools)
    waits. A reload re-embeds only texts the previous version did not have.
    """

    def __init__(
        self,
        snapshot: Snapshot,
        directory: Path,
        *,
        embedder: Embedder | None = None,
        cache_dir: Path | None = None,
        background: bool = False,
    ) -> None:
        self.directory = directory
        self._embedder = embedder
        self._cache_dir = cache_dir
        self._background = background
        self._current = snapshot
        self._fingerprint = fingerprint(directory)
        self._lock = threading.Lock()
        self._generation = 0
        self._semantic: SemanticIndex | None = snapshot.index.semantic
        self._ready = threading.Event()
        if embedder is None or snapshot.index.semantic is not None:
            self._ready.set()
        else:
            self._attach()

    @classmethod
    def open(
        cls,
        directory: Path,
        *,
        embedder: Embedder | None = None,
        cache_dir: Path | None = None,
        background: bool = False,
    ) -> tuple[Library | None, list[Problem]]:
        snapshot, problems = build_snapshot(directory)
        if snapshot is None:
            return None, problems
        library = cls(
            snapshot, directory, embedder=embedder, cache_dir=cache_dir, background=background
        )
        return library, problems

    @property
    def current(self) -> Snapshot:
        return self._current

    @property
    def semantic_ready(self) -> bool:
        """Whether the snapshot in service has its semantic signal (or none is configured)."""
        return self._ready.is_set()

    def wait_semantic(self, timeout: float | None = None) -> bool:
        """Block until the semantic signal has joined the current snapshot (or failed)."""
        return self._ready.wait(timeout)

    def changed(self) -> bool:
        return fingerprint(self.directory) != self._fingerprint

    def reload(self) -> tuple[bool, list[Problem]]:
        """Validate the folder again; swap only when valid. Returns (swapped, problems)."""
        self._fingerprint = fingerprint(self.directory)
        snapshot, problems = build_snapshot(self.directory)
        if snapshot is None:
            return False, problems
        with self._lock:
            self._generation += 1
            self._current = snapshot
        if self._embedder is not None:
            self._ready.clear()
            self._attach()
        return True, problems

    def _attach(self) -> None:
        with self._lock:
            generation, snapshot = self._generation, self._current
        if self._background:
            threading.Thread(
                target=self._embed, args=(generation, snapshot), name="semantic", daemon=True
            ).start()
        else:
            self._embed(generation, snapshot)

    def _embed(self, generation: int, snapshot: Snapshot) -> None:
        from bot.search.semantic import SemanticIndex, kb_texts

        assert self._embedder is not None
        kb = snapshot.kb
        try:
            semantic = SemanticIndex(
                kb_texts(kb),
                self._embedder,
                cache_dir=self._cache_dir,
                kb_version=kb.version,
                reuse=self._semantic,
            )
        except Exception as exc:  # the words alone keep answering; say so once
            logger.warning(
                "Semantische Suche aus, nur Wortsuche: Einbettung fehlgeschlagen (%s: %s)",
                type(exc).__name__,
                exc,
            )
            with self._lock:
                if generation == self._generation:
                    self._ready.set()
            return
        with self._lock:
            if generation != self._generation:
                return  # a newer version arrived meanwhile; its own worker attaches to it
            self._semantic = semantic
            self._current = Snapshot(kb, snapshot.index.with_semantic(semantic))
            self._ready.set()
        logger.info(
            "Semantische Suche bereit: Version %s, %d Texte neu eingebettet",
            kb.version,
            semantic.embedded,
        )


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
