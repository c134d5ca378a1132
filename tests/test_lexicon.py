"""The search's language knowledge as data: fixture knowledge bases with fixture lexicons.

These test the engine (loading, validation, redirects, compounds, hot reload), not the bundled
content, so an admin's routine edit of knowledge/ cannot break them.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.knowledge.lexicon import fold_word, load_lexicon
from bot.search.index import SearchIndex
from bot.search.library import Library, build_snapshot
from bot.search.textnorm import Analyzer, fold

LANGUAGE = """\
    sprache: de
    stoppwoerter: "ich wie geht das mein meine ist und the my how"
    fuellwoerter: "angebot regelung"
    anliegenwoerter: "beantragen"
    abkuerzungen:
      tz: teilzeit
    englisch:
      flexitime: gleitzeit
      day care: kita
"""

SEARCH = """\
    fehlende_themen: "pflege"
    fuehrungstitel: "chefin teamleitung"
    themenfremd:
      - thema: Gehalt
        woerter: "gehalt lohn besoldung"
        hinweis: "Fragen zum Gehalt beantwortet Ihre Personalsachbearbeitung."
"""

KITA = """\
    beratungsangebote:
      - id: kita-plaetze
        titel: "Kita-Plätze für Kinder von Beschäftigten"
        thema: familie
        antwort: "Die Stadt stellt Belegplätze in Kitas bereit."
        zielgruppe: "Eltern"
        status: geplant
        zustaendig: [beratung]
        stichworte: ["Kita", "Platz"]
      - id: fuehrung-teilzeit
        titel: "Führungskraft in Teilzeit"
        thema: arbeitszeit
        antwort: "Auch Führungskräfte können in Teilzeit arbeiten."
        zielgruppe: "Führungskräfte"
        status: geplant
        zustaendig: [beratung]
        stichworte: ["Führungskraft", "Teilzeit"]
"""


@pytest.fixture
def kb_with_lexicon(make_kb: Callable[..., Path]) -> Path:
    directory = make_kb(beratungsangebote=KITA)
    language = directory.parent / "sprache" / "de.yaml"
    language.parent.mkdir(exist_ok=True)
    language.write_text(textwrap.dedent(LANGUAGE), encoding="utf-8")
    (directory / "suche.yaml").write_text(textwrap.dedent(SEARCH), encoding="utf-8")
    return directory


def index_of(directory: Path) -> SearchIndex:
    snapshot, problems = build_snapshot(directory)
    assert snapshot is not None, [str(p) for p in problems]
    return snapshot.index


@pytest.mark.parametrize("word", ["Führung", "Fuehrung", "BESCHÄFTIGTE", "Straße", "Kölsch"])
def test_lexicon_folds_words_like_the_search(word: str) -> None:
    assert fold_word(word) == fold(word)


def test_off_topic_subject_gets_its_redirect_and_stays_unknown(kb_with_lexicon: Path) -> None:
    result = index_of(kb_with_lexicon).search("wann wird das gehalt überwiesen")
    assert result.outcome == "unknown"
    assert result.redirect is not None
    assert result.redirect.redirect.startswith("Fragen zum Gehalt")


def test_a_subject_the_organisation_lacks_is_never_answered(kb_with_lexicon: Path) -> None:
    index = index_of(kb_with_lexicon)
    result = index.search("pflege für meine mutter und kita")
    assert result.outcome != "answered" and result.missing
    assert not index.search("kita platz").missing


def test_abbreviations_english_terms_and_job_titles_come_from_the_lexicon(
    kb_with_lexicon: Path,
) -> None:
    index = index_of(kb_with_lexicon)
    assert index.search("chefin in tz").best.entry.id == "fuehrung-teilzeit"  # type: ignore[union-attr]
    assert index.search("day care for my kid").best.entry.id == "kita-plaetze"  # type: ignore[union-attr]
    analyzer = Analyzer(index.lexicon)
    assert "gleitzeit" in analyzer.terms("flexitime")


def test_both_halves_of_an_unseen_compound_count(kb_with_lexicon: Path) -> None:
    """'Kitaplatzsuche' is in no entry: Kita and Platz are, and 'Suche' is a general noun."""
    result = index_of(kb_with_lexicon).search("Kitaplatzsuche")
    assert result.best is not None and result.best.entry.id == "kita-plaetze"
    assert result.outcome == "answered"


def test_a_broken_search_file_is_refused_in_german_with_its_line(kb_with_lexicon: Path) -> None:
    (kb_with_lexicon / "suche.yaml").write_text(
        "themenfremd:\n  - thema: Gehalt\n    woerter: gehalt\nfuerungstitel: chef\n",
        encoding="utf-8",
    )
    lexicon, problems = load_lexicon(kb_with_lexicon)
    assert lexicon is None
    messages = [str(p) for p in problems]
    assert any("Zeile 2" in m and "fehlt: hinweis" in m for m in messages), messages
    assert any("Zeile 4" in m and "meinten Sie 'fuehrungstitel'" in m for m in messages), messages
    snapshot, _ = build_snapshot(kb_with_lexicon)
    assert snapshot is None


def test_an_edited_search_file_is_picked_up_by_reload(kb_with_lexicon: Path) -> None:
    library, problems = Library.open(kb_with_lexicon)
    assert library is not None, problems
    question = "wie ist das mit dem urlaub"
    assert library.current.index.search(question).redirect is None
    search = kb_with_lexicon / "suche.yaml"
    search.write_text(
        search.read_text(encoding="utf-8")
        + "  - thema: Urlaub\n    woerter: urlaub\n    hinweis: Urlaub regelt Ihre Dienststelle.\n",
        encoding="utf-8",
    )
    stat = search.stat()
    os.utime(search, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert library.changed()
    swapped, problems = library.reload()
    assert swapped, problems
    assert library.current.index.search(question).redirect is not None


def test_an_english_redirect_is_read_and_too_long_hints_are_refused(
    kb_with_lexicon: Path,
) -> None:
    search = kb_with_lexicon / "suche.yaml"
    search.write_text(
        search.read_text(encoding="utf-8")
        + '    hinweis_en: "Pay questions: your HR case worker."\n',
        encoding="utf-8",
    )
    lexicon, problems = load_lexicon(kb_with_lexicon)
    assert lexicon is not None, problems
    assert lexicon.off_topic[0].redirect_en == "Pay questions: your HR case worker."
    search.write_text(
        search.read_text(encoding="utf-8").replace(
            "Pay questions: your HR case worker.", "x" * 400
        ),
        encoding="utf-8",
    )
    lexicon, problems = load_lexicon(kb_with_lexicon)
    assert lexicon is None
    assert any("hinweis_en zu lang" in str(p) for p in problems)


def test_regional_words_read_as_standard_german(kb_with_lexicon: Path) -> None:
    """A Kölsch question finds the offer its standard-German twin finds; without the list the
    dialect words are unknown to the knowledge base."""
    question = "Jitt et ene Platz för ming Pänz en dä Kita?"
    before = index_of(kb_with_lexicon)
    assert "kind" not in before.terms(question)
    search = kb_with_lexicon / "suche.yaml"
    search.write_text(
        textwrap.dedent(SEARCH)
        + '\nmundart:\n  "pänz": "kinder"\n  "jitt et": "gibt es"\n  "för": "für"\n',
        encoding="utf-8",
    )
    index = index_of(kb_with_lexicon)
    terms = index.terms(question)
    assert "kind" in terms and "panz" not in terms and "jitt" not in terms
    assert index.search(question).best.entry.id == "kita-plaetze"  # type: ignore[union-attr]


def test_a_regional_word_the_knowledge_base_uses_is_warned_about(kb_with_lexicon: Path) -> None:
    """Folded, Kölsch "ühr" (ihr) is "uhr": the knowledge base's own "Uhr" would be misread."""
    (kb_with_lexicon / "suche.yaml").write_text(
        textwrap.dedent(SEARCH) + '\nmundart:\n  "ühr": "ihr"\n  "pänz": "kinder"\n',
        encoding="utf-8",
    )
    massnahmen = kb_with_lexicon / "massnahmen.yaml"
    text = massnahmen.read_text(encoding="utf-8")
    old = '"Sie können Beginn und Ende Ihres Arbeitstags frei wählen."'
    assert old in text
    massnahmen.write_text(text.replace(old, '"Beginn ab 6 Uhr, Ende frei wählbar."'), "utf-8")
    snapshot, problems = build_snapshot(kb_with_lexicon)
    assert snapshot is not None  # a warning, not an error: the bot keeps serving
    warnings = [str(p) for p in problems if p.severity == "warnung" and "mundart" in str(p)]
    assert len(warnings) == 1
    assert "„uhr“" in warnings[0] and "'gleitzeit'" in warnings[0] and "„ihr“" in warnings[0]


def test_an_example_question_in_dialect_is_no_clash(kb_with_lexicon: Path) -> None:
    """Example questions are written in the dialect on purpose: reading them as standard
    German is what the list is for, so only titles, keywords and answers are checked."""
    (kb_with_lexicon / "suche.yaml").write_text(
        textwrap.dedent(SEARCH) + '\nmundart:\n  "pänz": "kinder"\n', encoding="utf-8"
    )
    massnahmen = kb_with_lexicon / "massnahmen.yaml"
    text = massnahmen.read_text(encoding="utf-8")
    old = 'stichworte: ["Gleitzeit", "Kernzeit"]'
    example = 'beispielfragen: ["Muss ich bes drei bliev, wenn die Pänz us d\'r Schull kumme?"]'
    massnahmen.write_text(text.replace(old, f"{old}\n    {example}"), "utf-8")
    snapshot, problems = build_snapshot(kb_with_lexicon)
    assert snapshot is not None
    assert "panz" in snapshot.kb.entries["gleitzeit"].examples[0].casefold().replace("ä", "a")
    assert not [str(p) for p in problems if "mundart" in str(p)]
    massnahmen.write_text(text.replace(old, 'stichworte: ["Gleitzeit", "Pänz"]'), "utf-8")
    _, problems = build_snapshot(kb_with_lexicon)
    assert [str(p) for p in problems if "mundart" in str(p) and "„panz“" in str(p)]


def test_an_empty_regional_entry_is_an_error_with_its_line(kb_with_lexicon: Path) -> None:
    (kb_with_lexicon / "suche.yaml").write_text(
        textwrap.dedent(SEARCH) + '\nmundart:\n  "pänz": ""\n', encoding="utf-8"
    )
    lexicon, problems = load_lexicon(kb_with_lexicon)
    assert lexicon is None
    assert any("mundart: leerer Eintrag" in str(p) and "suche.yaml" in str(p) for p in problems)


def test_a_missing_subject_that_an_entry_names_is_warned_about(kb_with_lexicon: Path) -> None:
    """'pflege' is listed as missing; an entry that names it in its keywords wins the word, so
    check says that the two files contradict each other."""
    massnahmen = kb_with_lexicon / "massnahmen.yaml"
    text = massnahmen.read_text(encoding="utf-8")
    old = 'stichworte: ["Gleitzeit", "Kernzeit"]'
    assert old in text
    massnahmen.write_text(text.replace(old, 'stichworte: ["Gleitzeit", "Pflege"]'), "utf-8")
    snapshot, problems = build_snapshot(kb_with_lexicon)
    assert snapshot is not None
    warnings = [str(p) for p in problems if "fehlende_themen" in str(p)]
    assert len(warnings) == 1 and "„pfleg“" in warnings[0] and "'gleitzeit'" in warnings[0]
    assert snapshot.index.search("Pflege").best.entry.id == "gleitzeit"  # type: ignore[union-attr]


def test_an_off_topic_word_that_an_entry_names_is_warned_about_in_any_form(
    kb_with_lexicon: Path,
) -> None:
    """'gehalt' is off-topic; an entry naming "Gehälter" wins the word over the redirect,
    so check names both sides with the admin's word, not its stem."""
    snapshot, problems = build_snapshot(kb_with_lexicon)
    assert snapshot is not None
    assert not [p for p in problems if "themenfremd" in str(p)]
    assert snapshot.index.search("Gehalt").redirect is not None
    massnahmen = kb_with_lexicon / "massnahmen.yaml"
    text = massnahmen.read_text(encoding="utf-8")
    old = 'stichworte: ["Gleitzeit", "Kernzeit"]'
    massnahmen.write_text(text.replace(old, 'stichworte: ["Gleitzeit", "Gehälter"]'), "utf-8")
    snapshot, problems = build_snapshot(kb_with_lexicon)
    assert snapshot is not None
    warnings = [str(p) for p in problems if "themenfremd" in str(p)]
    assert len(warnings) == 1, warnings
    assert "(Gehalt)" in warnings[0] and "„gehalt“" in warnings[0] and "'gleitzeit'" in warnings[0]
    assert "suche.yaml" in warnings[0]
    assert snapshot.index.search("Gehalt").redirect is None


def test_a_missing_subject_is_never_answered_on_the_semantic_path(
    kb_with_lexicon: Path, tmp_path: Path
) -> None:
    """The embedding may find a resembling offer; the organisation still has none for it."""
    from bot.search.embedder import Matrix, normalise
    from bot.search.semantic import SemanticIndex, kb_texts

    class Agreeable:
        """Puts every question right next to the Kita entry."""

        model_id = "agreeable-4"

        def embed(self, texts: list[str], *, query: bool) -> Matrix:
            import numpy as np

            out = np.ones((len(texts), 4), dtype=np.float32)
            for row, text in enumerate(texts):
                out[row, 0] = 5.0 if "kita" in text.lower() or "pflege" in text.lower() else 0.0
            return normalise(out)

    index = index_of(kb_with_lexicon)
    semantic = SemanticIndex(
        kb_texts(index.kb), Agreeable(), cache_dir=None, kb_version=index.kb.version
    )
    fused = index.with_semantic(semantic)
    result = fused.search("Pflege für meine Kita-Kinder")
    assert result.outcome != "answered"
    assert fused.search("Kita-Platz für Kinder").outcome == "answered"
