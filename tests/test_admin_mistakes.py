"""Every mistake an admin makes in a YAML file ends in a German sentence with line and fix.

Each case below is a real file in tmp_path, broken the way people break YAML by hand (seen in
issue 11): the message must name the line where the fix goes, not where the parser gave up,
and say what to type ("Lösung: …"). Both PyYAML parsers are tried, libyaml's and the
pure-Python one, because they word their errors differently.
"""

from __future__ import annotations

import ast
import os
import random
import re
import shutil
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from bot.config import DEFAULT_KB
from bot.knowledge import yamlsafe
from bot.knowledge.schema import KnowledgeBase, Problem, validate
from bot.search.library import build_snapshot
from bot.search.selftest import self_test

MakeKb = Callable[..., Path]

# The measure of the minimal fixture knowledge base (tests/conftest.py), line by line.
BASE = """\
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
"""
LINE = {text.split(":")[0].strip(" -"): n for n, text in enumerate(BASE.splitlines(), 1)}

LOADERS = [
    pytest.param(getattr(yaml, "CSafeLoader", yaml.SafeLoader), id="libyaml"),
    pytest.param(yaml.SafeLoader, id="python"),
]


@pytest.fixture(params=LOADERS)
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> type:
    """Run the test with each parser: they word their errors differently."""
    monkeypatch.setattr(yamlsafe, "_LOADER", request.param)
    loader_class: type = request.param
    return loader_class


def edited(field: str, line: str) -> str:
    """BASE with the line of ``field`` replaced by ``line`` (given without indentation)."""
    lines = BASE.splitlines()
    number = LINE[field]
    lines[number - 1] = line if line.startswith((" ", "\t")) else "    " + line
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Mistake:
    text: str
    line: int
    says: tuple[str, ...]  # fragments of the message: what is wrong, and the fix


MISTAKES: dict[str, Mistake] = {
    "tab-in-indentation": Mistake(
        edited("thema", "\tthema: arbeitszeit"),
        LINE["thema"],
        ("YAML-Syntaxfehler: Tabulatorzeichen", "(Spalte 1)", "mit Leerzeichen einrücken"),
    ),
    "indented-too-deep": Mistake(
        edited("thema", "     thema: arbeitszeit"),
        LINE["thema"],
        ("Einrückung passt nicht: 'thema' beginnt in Spalte 6", "mit 4 Leerzeichen einrücken"),
    ),
    "indented-too-deep-under-an-unquoted-value": Mistake(
        edited("titel", "titel: Gleitzeit").replace("    thema:", "     thema:"),
        LINE["thema"],
        (
            "'thema' ist weiter eingerückt als 'titel' in Zeile 4, darum gilt die Zeile als"
            " Fortsetzung des Werts darüber",
            "'thema' genau unter 'titel' beginnen lassen (mit 4 Leerzeichen einrücken)",
        ),
    ),
    "indented-too-little": Mistake(
        edited("thema", "   thema: arbeitszeit"),
        LINE["thema"],
        ("Einrückung passt nicht: 'thema' beginnt in Spalte 4", "mit 4 Leerzeichen einrücken"),
    ),
    "indented-like-the-dash": Mistake(
        edited("thema", "  thema: arbeitszeit"),
        LINE["thema"],
        ("Einrückung passt nicht: 'thema' beginnt in Spalte 3", "mit 4 Leerzeichen einrücken"),
    ),
    "inner-double-quotes": Mistake(
        edited("titel", 'titel: "Gleitzeit "ohne" Kernzeit"'),
        LINE["titel"],
        (
            "Anführungszeichen im Text",
            "typografische Anführungszeichen „…“",
            '»titel: "Gleitzeit „ohne“ Kernzeit"«',
        ),
    ),
    "text-after-closing-quote": Mistake(
        edited("titel", 'titel: "Gleitzeit" ohne Kernzeit'),
        LINE["titel"],
        ('nach dem schließenden »"« steht noch Text', '»titel: "„Gleitzeit“ ohne Kernzeit"«'),
    ),
    "apostrophe-in-single-quotes": Mistake(
        edited("titel", "titel: 'Omas Pflege's Tag'"),
        LINE["titel"],
        ("Apostroph im Text", "außen doppelte Anführungszeichen", '»titel: "Omas Pflege\'s Tag"«'),
    ),
    "colon-in-unquoted-value": Mistake(
        edited("titel", "titel: Neu: Gleitzeit ohne Kernzeit"),
        LINE["titel"],
        (
            "Doppelpunkt im Wert von 'titel'",
            "(Spalte 15)",
            '»titel: "Neu: Gleitzeit ohne Kernzeit"«',
        ),
    ),
    "missing-colon": Mistake(
        edited("thema", "thema arbeitszeit"),
        LINE["thema"],
        ("nach 'thema' fehlt der Doppelpunkt", "»thema: arbeitszeit« schreiben"),
    ),
    "missing-colon-after-id": Mistake(  # PyYAML notices it one line late
        edited("id", "  - id gleitzeit"),
        LINE["id"],
        ("nach 'id' fehlt der Doppelpunkt", "»id: gleitzeit« schreiben"),
    ),
    "missing-colon-after-section": Mistake(  # PyYAML notices it one line late
        BASE.replace("massnahmen:\n", "massnahmen\n", 1),
        LINE["massnahmen"],
        ("nach 'massnahmen' fehlt der Doppelpunkt", "»massnahmen:« schreiben"),
    ),
    "missing-colon-on-the-last-line": Mistake(
        edited("stichworte", 'stichworte ["Gleitzeit", "Kernzeit"]'),
        LINE["stichworte"],
        ("nach 'stichworte' fehlt der Doppelpunkt", '»stichworte: ["Gleitzeit", "Kernzeit"]«'),
    ),
    "missing-space-after-colon": Mistake(
        edited("titel", 'titel:"Gleitzeit ohne Kernzeit"'),
        LINE["titel"],
        ("nach dem Doppelpunkt von 'titel' fehlt ein Leerzeichen", '»titel: "Gleitzeit'),
    ),
    "line-broken-inside-a-field-name": Mistake(
        BASE.replace("    antwort:", "    ant\nwort:"),
        LINE["antwort"],
        ("die Zeile ist umgebrochen: »ant« und »wort:", "beide wieder in eine Zeile schreiben"),
    ),
    "stray-character-after-the-colon": Mistake(
        edited("ref", 'ref:? "1.1.1"'),
        LINE["ref"],
        ("nach dem Doppelpunkt von 'ref' steht »?«", '»ref: "1.1.1"« schreiben'),
    ),
    "missing-space-after-dash": Mistake(
        edited("id", "  -id: gleitzeit"),
        LINE["id"],
        ("nach dem Listenstrich »-« fehlt ein Leerzeichen", "»- id: gleitzeit« schreiben"),
    ),
    "unclosed-quote-in-the-middle": Mistake(  # PyYAML complains at the next quote
        edited("titel", 'titel: "Gleitzeit ohne Kernzeit'),
        LINE["titel"],
        ('das Anführungszeichen »"« wird nicht geschlossen', 'das schließende »"« ergänzen'),
    ),
    "unclosed-quote-at-the-end": Mistake(
        BASE.replace('["Gleitzeit", "Kernzeit"]', '["Gleitzeit", "Kernzeit]'),
        LINE["stichworte"],
        ('das Anführungszeichen »"« wird nicht geschlossen', "(Spalte 31)"),
    ),
    "unclosed-bracket": Mistake(
        edited("zustaendig", "zustaendig: [amt-personal"),
        LINE["zustaendig"],
        ("die Klammer »[« wird nicht mit »]« geschlossen", "(Spalte 17)", "»]« am Ende"),
    ),
    "value-starting-with-a-star": Mistake(
        edited("titel", "titel: *Neu* Gleitzeit"),
        LINE["titel"],
        ("ein Wert darf nicht mit »*« beginnen", '»titel: "*Neu* Gleitzeit"«'),
    ),
    "value-starting-with-a-bracket": Mistake(
        edited("titel", "titel: [Entwurf] Gleitzeit"),
        LINE["titel"],
        ("nach der schließenden Klammer »]« steht noch Text", '»titel: "[Entwurf] Gleitzeit"«'),
    ),
    "value-starting-with-an-at-sign": Mistake(
        edited("titel", "titel: @home arbeiten"),
        LINE["titel"],
        ("ein Wert darf nicht mit »@« beginnen", '»titel: "@home arbeiten"«'),
    ),
    "value-starting-with-a-pipe": Mistake(
        edited("titel", "titel: | Gleitzeit"),
        LINE["titel"],
        ("»|« oder »>« am Anfang eines Werts", '»titel: "| Gleitzeit"«'),
    ),
    "backslash-in-double-quotes": Mistake(
        edited("titel", 'titel: "Vorlage unter C:\\Users\\Vorlagen"'),
        LINE["titel"],
        ("ein »\\« in doppelten Anführungszeichen", "einfache Anführungszeichen"),
    ),
    "list-item-without-dash": Mistake(
        BASE.replace(
            '    stichworte: ["Gleitzeit", "Kernzeit"]\n',
            '    stichworte:\n      - "Gleitzeit"\n      "Kernzeit"\n',
        ),
        LINE["stichworte"] + 2,
        ("dieser Listeneintrag hat keinen Strich »- «", '»- "Kernzeit"« schreiben'),
    ),
    "list-item-misaligned": Mistake(
        BASE.replace(
            '    stichworte: ["Gleitzeit", "Kernzeit"]\n',
            '    stichworte:\n      - "Gleitzeit"\n     - "Kernzeit"\n',
        ),
        LINE["stichworte"] + 2,
        ('Einrückung passt nicht: »- "Kernzeit"« beginnt in Spalte 6', "mit 6 Leerzeichen"),
    ),
    "field-twice": Mistake(
        BASE.replace("    thema: arbeitszeit\n", "    thema: arbeitszeit\n    titel: Gleitzeit\n"),
        LINE["thema"] + 1,
        ("Feld 'titel' steht zweimal", "(zuerst in Zeile 4)", "eine der beiden Zeilen löschen"),
    ),
    "second-entry-without-dash": Mistake(
        BASE + '    id: kernzeit\n    titel: "Kernzeit"\n',
        len(BASE.splitlines()) + 1,
        (
            "Feld 'id' steht zweimal",
            "Lösung: beginnt hier ein neuer Eintrag, fehlt vor 'id' der Strich",
        ),
    ),
    "stray-character-before-a-field": Mistake(
        edited("thema", "    }thema: arbeitszeit"),
        LINE["thema"],
        (
            "überzähliges Zeichen »}« vor dem Feldnamen",
            "das Zeichen löschen: »    thema: arbeitszeit«",
        ),
    ),
    "two-fields-on-one-line": Mistake(
        edited("status", "status: geplant    zustaendig: [amt-personal]"),
        LINE["status"],
        ("zwei Felder in einer Zeile: 'zustaendig'", "einen Zeilenumbruch einfügen"),
    ),
    "invisible-control-character": Mistake(
        edited("titel", 'titel: "Gleitzeit\x0bohne Kernzeit"'),
        LINE["titel"],
        ("unsichtbares Zeichen (U+000B) in Spalte 22", "die Stelle löschen und neu tippen"),
    ),
    "second-document": Mistake(
        BASE + "---\n",
        len(BASE.splitlines()) + 1,
        ("zweites Dokument", "die Zeile »---« löschen"),
    ),
    "invalid-date": Mistake(
        edited("ref", "ref: 2021-02-30"),
        LINE["ref"],
        ("»2021-02-30« ist nicht lesbar", "in Anführungszeichen setzen"),
    ),
    "mojibake": Mistake(
        edited("zielgruppe", 'zielgruppe: "alle BeschÃ¤ftigten in KÃ¶ln"'),
        LINE["zielgruppe"],
        (
            "Umlaute falsch gespeichert: »BeschÃ¤ftigten« statt »Beschäftigten«, »KÃ¶ln« statt"
            " »Köln«",
            "„Speichern unter“ wählen und unten bei „Codierung“ „UTF-8“ einstellen",
        ),
    ),
    "number-where-text-belongs": Mistake(
        edited("ref", "ref: 1.1"),
        LINE["ref"],
        ("Feld 'ref' muss Text sein, nicht Zahl", 'in Anführungszeichen setzen: »ref: "…"«'),
    ),
    "text-where-a-list-belongs": Mistake(
        edited("zustaendig", "zustaendig: amt-personal"),
        LINE["zustaendig"],
        ("muss eine Liste von Texten sein, nicht Text", '»zustaendig: ["…", "…"]«'),
    ),
    "colon-inside-a-list-item": Mistake(
        edited("stichworte", 'stichworte: ["Gleitzeit", Kernzeit: nein]'),
        LINE["stichworte"],
        ("Element 2 ist Abschnitt, nicht Text", "jedes Element in Anführungszeichen setzen"),
    ),
    "unknown-status": Mistake(
        edited("status", "status: verfugbar"),
        LINE["status"],
        ("status 'verfugbar' unbekannt (meinten Sie 'verfuegbar'?)", "(erlaubt: geplant, "),
    ),
    "unknown-status-label": Mistake(
        edited("status", "status: in Prufung"),
        LINE["status"],
        ("status 'in Prufung' unbekannt (meinten Sie 'pruefung'?)",),
    ),
    "topic-by-its-title": Mistake(
        edited("thema", "thema: Arbeitszeit"),
        LINE["thema"],
        ("unbekanntes Thema 'Arbeitszeit' (meinten Sie 'arbeitszeit'?)",),
    ),
    "topic-typo": Mistake(
        edited("thema", "thema: arbietszeit"),
        LINE["thema"],
        ("unbekanntes Thema 'arbietszeit' (meinten Sie 'arbeitszeit'?)",),
    ),
    "contact-by-its-name": Mistake(
        edited("zustaendig", "zustaendig: [Personalamt]"),
        LINE["zustaendig"],
        ("unbekannter Kontakt 'Personalamt' in 'zustaendig' (meinten Sie 'amt-personal'?)",),
    ),
    "contact-typo": Mistake(
        edited("zustaendig", "zustaendig: [amt-persnal]"),
        LINE["zustaendig"],
        ("unbekannter Kontakt 'amt-persnal' in 'zustaendig' (meinten Sie 'amt-personal'?)",),
    ),
    "id-with-umlauts-and-spaces": Mistake(
        edited("id", "  - id: Gleitzeit für alle"),
        LINE["id"],
        ("id darf nur a-z, 0-9 und '-' enthalten", "Lösung: z. B. 'gleitzeit-fuer-alle'."),
    ),
    "section-indented-as-a-field": Mistake(
        BASE.replace("    thema: arbeitszeit\n", "") + "thema: arbeitszeit\n",
        len(BASE.splitlines()),
        (
            "unbekannter Abschnitt 'thema' (meinten Sie 'themen'?)",
            "'thema' ist auch ein Feld; steht die Zeile zu weit links?",
        ),
    ),
}


def test_an_id_where_a_ref_belongs_suggests_the_ref(make_kb: MakeKb) -> None:
    service = ELSEWHERE.replace("id: gleitzeit", "id: beratung-gleitzeit") + (
        '    massnahmen: ["gleitzeit"]\n'
    )
    [problem] = problems_of(make_kb(beratungsangebote=service))
    assert (Path(problem.file).name, problem.line) == ("beratungsangebote.yaml", 9)
    assert problem.message == (
        "Eintrag 'beratung-gleitzeit': unbekannte Maßnahme 'gleitzeit' in 'massnahmen' "
        "(meinten Sie '1.1.1'? In 'massnahmen' stehen refs, nicht ids)"
    )


def test_a_contact_named_by_part_of_its_name_is_suggested(fixture_copy: Path) -> None:
    path = fixture_copy / "beratungsangebote.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            "zustaendig: [beratungsstelle]", "zustaendig: [Beratungsstelle Vereinbarkeit]"
        ),
        encoding="utf-8",
    )
    messages = {p.message for p in problems_of(fixture_copy)}
    assert (
        "Eintrag 'familienservice-beratung': unbekannter Kontakt 'Beratungsstelle "
        "Vereinbarkeit' in 'zustaendig' (meinten Sie 'beratungsstelle'?)"
    ) in messages


def test_a_reference_into_an_unreadable_file_says_why_it_is_unknown(make_kb: MakeKb) -> None:
    """A syntax error in one file makes its ids unknown elsewhere; say so, not just 'unknown'."""
    directory = make_kb(
        organisation=None,
        themen='themen:\n  - id: arbeitszeit\n    titel: "Arbeitszeit\n',
        kontakte=(
            "organisation:\n  name: Stadt\n  beratung: amt-personal\n  quelle: Test\n"
            "kontakte:\n  - id: amt-personal\n    name: Personalamt\n    antwort: Hilft.\n"
        ),
    )
    found = [(Path(p.file).name, p.line, p.message) for p in problems_of(directory)]
    assert found[0][:2] == ("themen.yaml", 3)
    assert (
        "massnahmen.yaml",
        5,
        "Eintrag 'gleitzeit': unbekanntes Thema 'arbeitszeit' – steht vielleicht in themen.yaml; "
        "die Datei wird wegen des Fehlers dort nicht gelesen",
    ) in found


def problems_of(directory: Path) -> list[Problem]:
    _, problems = validate(directory)
    return [p for p in problems if p.severity == "fehler"]


@pytest.mark.parametrize("case", list(MISTAKES))
def test_each_mistake_names_its_line_and_the_fix(make_kb: MakeKb, loader: type, case: str) -> None:
    mistake = MISTAKES[case]
    found = problems_of(make_kb(massnahmen=mistake.text))
    assert found, "the mistake went unnoticed"
    here = [p for p in found if p.line == mistake.line]
    assert here, [str(p) for p in found]
    problem = here[0]
    assert Path(problem.file).name == "massnahmen.yaml"
    for fragment in mistake.says:
        assert fragment in problem.message, f"{fragment!r} not in {problem.message!r}"
    if problem.message.startswith("YAML-Syntaxfehler"):
        assert ". Lösung: " in problem.message
        assert found == [problem], "a syntax error is reported once, on its line"


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("verfügbar", "verfuegbar"),
        ("Verfügbar", "verfuegbar"),
        ("in Prüfung", "pruefung"),
        ("prüfung", "pruefung"),
        ("In Umsetzung", "umsetzung"),
        ("geplant", "geplant"),
    ],
)
def test_status_may_be_written_with_umlauts_or_as_shown(
    make_kb: MakeKb, written: str, key: str
) -> None:
    kb, problems = validate(make_kb(massnahmen=edited("status", f"status: {written}")))
    assert problems == []
    assert kb is not None
    assert kb.entries["gleitzeit"].status == key


# --- a duplicate id blames the file that was just edited ---------------------------------------

ELSEWHERE = """\
beratungsangebote:
  - id: gleitzeit
    titel: "Beratung zur Gleitzeit"
    thema: arbeitszeit
    antwort: "Die Beratungsstelle erklärt die Gleitzeit."
    zielgruppe: "alle"
    status: verfügbar
    zustaendig: [beratung]
"""


def saved_in_order(directory: Path, *names: str) -> None:
    """Set modification times so that ``names`` were saved one after the other."""
    for offset, name in enumerate(names):
        stamp = 1_700_000_000 + offset * 60
        os.utime(directory / name, (stamp, stamp))


def test_a_new_duplicate_in_an_earlier_file_is_blamed_on_that_file(make_kb: MakeKb) -> None:
    """The admin adds an entry to beratungsangebote.yaml (read first) with a taken id."""
    directory = make_kb(beratungsangebote=ELSEWHERE)
    saved_in_order(directory, "organisation.yaml", "massnahmen.yaml", "beratungsangebote.yaml")
    [problem] = problems_of(directory)
    assert (Path(problem.file).name, problem.line) == ("beratungsangebote.yaml", 2)
    assert problem.message.startswith("Eintrag 'gleitzeit': id doppelt vergeben (auch in ")
    assert "massnahmen.yaml, Zeile 2). Lösung: hier eine andere id wählen" in problem.message


def test_a_new_duplicate_in_a_later_file_is_blamed_on_that_file(make_kb: MakeKb) -> None:
    directory = make_kb(beratungsangebote=ELSEWHERE)
    saved_in_order(directory, "organisation.yaml", "beratungsangebote.yaml", "massnahmen.yaml")
    [problem] = problems_of(directory)
    assert (Path(problem.file).name, problem.line) == ("massnahmen.yaml", 2)
    assert problem.message.startswith("Eintrag 'gleitzeit': id doppelt vergeben (zuerst in ")
    assert "beratungsangebote.yaml, Zeile 2)" in problem.message


def test_a_duplicate_ref_names_both_entries_and_places(make_kb: MakeKb) -> None:
    second = (
        BASE.replace("massnahmen:\n", "")
        .replace("id: gleitzeit", "id: kernzeit")
        .replace('["Gleitzeit", "Kernzeit"]', '["Kernarbeitszeit"]')
    )
    directory = make_kb(massnahmen=BASE + second)
    [problem] = problems_of(directory)
    assert (Path(problem.file).name, problem.line) == ("massnahmen.yaml", 12)
    assert problem.message.startswith(
        "Eintrag 'kernzeit': ref '1.1.1' doppelt (auch bei 'gleitzeit' in "
    )
    assert "massnahmen.yaml, Zeile 3)" in problem.message


# --- files saved in the wrong encoding ----------------------------------------------------------


def test_a_file_saved_as_ansi_names_the_line_and_how_to_save_utf8(make_kb: MakeKb) -> None:
    directory = make_kb(massnahmen=None)
    (directory / "massnahmen.yaml").write_bytes(BASE.encode("cp1252"))
    [problem] = problems_of(directory)
    assert (Path(problem.file).name, problem.line) == ("massnahmen.yaml", LINE["antwort"])
    assert "vermutlich „ANSI“/Windows-1252" in problem.message
    assert '»antwort: "Sie können Beginn' in problem.message
    assert "„Codierung“ „UTF-8“" in problem.message


def test_a_file_saved_as_utf16_says_so(make_kb: MakeKb) -> None:
    directory = make_kb(massnahmen=None)
    (directory / "massnahmen.yaml").write_bytes(BASE.encode("utf-16"))
    [problem] = problems_of(directory)
    assert problem.message.startswith("Datei ist als UTF-16 („Unicode“) gespeichert")
    assert "„Codierung“ „UTF-8“" in problem.message


def test_utf8_with_bom_is_fine(make_kb: MakeKb) -> None:
    directory = make_kb(massnahmen=None)
    (directory / "massnahmen.yaml").write_bytes(BASE.encode("utf-8-sig"))
    assert problems_of(directory) == []


def test_many_garbled_lines_are_summed_up(make_kb: MakeKb) -> None:
    garbled = BASE.replace("ö", "Ã¶").replace("ä", "Ã¤") + "".join(
        f"# Ã„nderung {i}\n" for i in range(8)
    )
    found = problems_of(make_kb(massnahmen=garbled))
    assert [p.line for p in found] == [6, 7, 11, 12, 13, 14]
    assert (
        found[-1].message
        == "Umlaute falsch gespeichert auch in 5 weiteren Zeilen (hier die nächste)."
    )


# --- the self-test names a copied sentence ------------------------------------------------------


def test_a_copied_example_question_names_its_twin(fixture_copy: Path) -> None:
    path = fixture_copy / "massnahmen.yaml"
    text = path.read_text(encoding="utf-8")
    anchor = '      - "gibt es noch eine kernzeit"\n'
    copied = '      - "die kita hat zu und ich muss arbeiten"\n'  # from 'notfallbetreuung'
    assert text.count(anchor) == text.count(copied) == 1
    path.write_text(text.replace(anchor, anchor + copied), encoding="utf-8")
    snapshot, _ = build_snapshot(fixture_copy)
    assert snapshot is not None
    [collision] = self_test(snapshot.index)
    loser, winner = collision.entry_id, collision.found
    assert {loser, winner} == {"gleitzeit", "notfallbetreuung"}
    twin = snapshot.kb.entries[winner or ""]
    assert str(collision).endswith(
        f"findet zuerst '{winner}' – sie steht wortgleich als Beispielfrage bei '{winner}' "
        f"({twin.file}, Zeile {twin.line}). Lösung: die Frage bei einem der beiden Einträge "
        "streichen oder umformulieren."
    )
    assert Path(twin.file).name == "massnahmen.yaml"


# --- nothing but German -------------------------------------------------------------------------

# Words of PyYAML's messages and of English prose in general; none is a German word.
ENGLISH = frozenset(
    """
    found expected while scanning parsing mapping mappings character token tokens stream could
    not allowed block end the value values key document indicator line column context
    unexpected scalar sequence here this and but cannot start any did find simple flow node
    content is are was with for from into unacceptable special characters control error
    invalid missing unknown must should
    """.split()
)


def english_words(message: str) -> set[str]:
    """English words in a message, leaving out what it quotes from the admin's file."""
    own = re.sub(r"»[^«]*«|'[^']*'", " ", message)
    return {w for w in re.findall(r"\w+", own.lower()) if w in ENGLISH}


MUTATIONS = [*":\"'\t[]{}-#&*!|>%@`?,\\", " ", "  ", "\n", "Ã¤", "\x07"]


def mutants(seed: int, count: int) -> Iterator[str]:
    """BASE with one random edit each: a character typed, deleted or a line moved."""
    rng = random.Random(seed)
    for _ in range(count):
        text = BASE
        position = rng.randrange(len(text))
        choice = rng.random()
        if choice < 0.6:
            text = text[:position] + rng.choice(MUTATIONS) + text[position:]
        elif choice < 0.8:
            text = text[:position] + text[position + 1 :]
        else:
            lines = text.splitlines(keepends=True)
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            text = "".join(lines)
        yield text


def test_every_message_from_hundreds_of_broken_files_is_german(
    make_kb: MakeKb, loader: type
) -> None:
    seen: set[str] = set()
    texts = [m.text for m in MISTAKES.values()] + list(mutants(seed=11, count=250))
    for text in texts:
        for problem in validate(make_kb(massnahmen=text))[1]:
            seen.add(problem.message)
            assert not english_words(problem.message), problem.message
            assert not re.search(r"<\w+>|Traceback|Error\b", problem.message), problem.message
            if problem.message.startswith("YAML-Syntaxfehler"):
                assert problem.line is not None, problem.message
                assert ". Lösung: " in problem.message, problem.message
    assert len(seen) > 50  # the mutations reached many different explanations


MESSAGE_CALLS = {"error", "warn", "at", "YamlError", "Explained", "Problem", "KnowledgeError"}


def message_strings(path: Path) -> Iterator[tuple[int, str]]:
    """String pieces in bot/knowledge that can end up in a message: arguments of the calls
    that report problems, f-string parts and returned strings; not the English the parser's
    own errors are recognised by (comparisons like ``"flow" in context``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}

    def inside(node: ast.AST, kinds: tuple[type, ...]) -> bool:
        while node in parents:
            node = parents[node]
            if isinstance(node, kinds):
                return True
        return False

    def call_name(node: ast.Call) -> str:
        func = node.func
        return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")

    def code_not_text(node: ast.AST) -> bool:
        """Dictionary keys, attribute names and regular expressions are not read by admins."""
        while node in parents:
            node = parents[node]
            if isinstance(node, ast.Subscript):
                return True
            if isinstance(node, ast.Call) and call_name(node) in {"compile", "getattr"}:
                return True
        return False

    def in_message_call(node: ast.AST) -> bool:
        while node in parents:
            node = parents[node]
            if isinstance(node, ast.Call) and call_name(node) in MESSAGE_CALLS:
                return True
        return False

    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
            continue
        if inside(node, (ast.Compare, ast.comprehension)) or code_not_text(node):
            continue
        if inside(node, (ast.JoinedStr, ast.Return)) or in_message_call(node):
            yield node.lineno, node.value


def test_every_message_string_in_bot_knowledge_is_german() -> None:
    modules = sorted((Path(__file__).parents[1] / "bot" / "knowledge").glob("*.py"))
    assert {m.stem for m in modules} >= {"model", "schema", "yamlsafe", "yamlerrors"}
    english = [
        f"{m.name}:{line}: {text!r}"
        for m in modules
        for line, text in message_strings(m)
        if english_words(text)
    ]
    assert english == []


def test_the_bundled_knowledge_bases_have_no_garbled_umlauts() -> None:
    for directory in (DEFAULT_KB, DEFAULT_KB.parent / "herne"):
        for path in directory.glob("*.yaml"):
            assert yamlsafe.find_mojibake(path.read_text(encoding="utf-8")) == [], path


def test_the_admins_readme_example_entry_is_valid(tmp_path: Path) -> None:
    """knowledge/README.md offers a copy-paste entry; pasted into a copy it must load."""
    readme = (Path(__file__).parents[1] / "knowledge" / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(massnahmen:.*?)```", readme, re.DOTALL)
    assert block, "knowledge/README.md has no ```yaml block starting with 'massnahmen:'"
    directory = Path(shutil.copytree(DEFAULT_KB, tmp_path / "koeln"))
    (directory / "neu.yaml").write_text(textwrap.dedent(block.group(1)), encoding="utf-8")
    kb, problems = validate(directory)
    assert [str(p) for p in problems if p.severity == "fehler"] == []
    assert isinstance(kb, KnowledgeBase)
