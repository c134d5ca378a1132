"""Shared pytest fixtures: the fake Bot API server, the end-to-end harness, knowledge bases."""

import os
import shutil
import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from fakebotapi import FakeBotApi

# The end-to-end fixtures (the bot in this event loop or as a subprocess), for every test file.
from harness import running, start_bot, start_process  # noqa: F401
from opskit import start_plain  # noqa: F401  (processes with a umask or without root's powers)

# The semantic signal is on by default; the suite tests the words-only engine unless a test
# passes an embedder itself, so no bot process spends 15 s of CPU embedding the knowledge base.
os.environ.setdefault("BOT_SEMANTIC", "aus")

from bot.config import DEFAULT_KB
from bot.search.library import Library


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotApi]:
    """A running fake Bot API server on a free port of 127.0.0.1, private to the test."""
    async with FakeBotApi() as api:
        yield api


MINIMAL_KB = {
    "organisation": """\
        organisation:
          name: "Stadt Musterstadt"
          beratung: beratung
          quelle: "Testquelle"
        themen:
          - id: arbeitszeit
            titel: "Arbeitszeit"
          - id: familie
            titel: "Familie"
        kontakte:
          - id: beratung
            name: "Beratungsstelle Vereinbarkeit"
            antwort: "Berät alle Beschäftigten persönlich."
          - id: amt-personal
            name: "Personalamt"
            antwort: "Zuständig für Regelungen zur Arbeitszeit."
        """,
    "massnahmen": """\
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
        """,
}


@pytest.fixture
def make_kb(tmp_path: Path) -> Callable[..., Path]:
    """Write a small valid knowledge base to ``tmp_path/kb``. Keyword arguments replace or add
    files (``massnahmen="..."`` writes ``massnahmen.yaml``, dedented); ``None`` leaves one out."""

    def make(**files: str | None) -> Path:
        directory = tmp_path / "kb"
        directory.mkdir(exist_ok=True)
        for name, text in {**MINIMAL_KB, **files}.items():
            if text is not None:
                (directory / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
        return directory

    return make


FIXTURE_ROOT = Path(__file__).parent / "data" / "fixture"
FIXTURE_KB = FIXTURE_ROOT / "musterstadt"
"""The fixture knowledge base of the engine tests, with its own language file beside it
(``../sprache/de.yaml``): invented, generic content that only the tests depend on."""


@pytest.fixture(scope="session")
def fixture_library() -> Library:
    """The fixture knowledge base with its search index, loaded once per test run."""
    library, problems = Library.open(FIXTURE_KB)
    assert library is not None, [str(p) for p in problems]
    return library


@pytest.fixture
def fixture_copy(tmp_path: Path) -> Path:
    """A private copy of the fixture knowledge base (and its language file) to edit."""
    shutil.copytree(FIXTURE_ROOT, tmp_path / "fixture")
    return tmp_path / "fixture" / FIXTURE_KB.name


@pytest.fixture
def koeln_copy(tmp_path: Path) -> Path:
    """A private copy of the bundled Köln knowledge base that a test may break."""
    return Path(shutil.copytree(DEFAULT_KB, tmp_path / "koeln"))


@pytest.fixture(scope="session")
def koeln_library() -> Library:
    """The bundled Köln knowledge base with its search index, loaded once per test run."""
    library, problems = Library.open(DEFAULT_KB)
    assert library is not None, [str(p) for p in problems]
    return library
