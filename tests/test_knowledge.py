"""The knowledge base: what the bundled files contain, and how admins learn about their mistakes.

Admins edit YAML by hand. Every problem must come back in German with file and line, all
problems of a folder at once, and nothing in a file may ever be executed or expanded.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import MINIMAL_KB

from bot.config import DEFAULT_KB
from bot.knowledge.schema import STATUS_LABELS, KnowledgeBase, Problem, load_knowledge, validate
from bot.knowledge.yamlsafe import MAX_FILE_BYTES

KOELN = DEFAULT_KB
HERNE = DEFAULT_KB.parent / "herne"

MakeKb = Callable[..., Path]

# The 29 measures of the Köln target agreement (/work/shared/seeds/003_…txt, "Maßnahme x.y.z"),
# each with its "Umsetzung bis" and the first body named under "Zuständige".
# Handlungsfeld 7 has no measures ("keine weiterführenden Ziele oder Maßnahmen vereinbart").
KOELN_MEASURES = {
    "1.1.1": ("Jahresbericht 2", "amt-personal"),
    "1.1.2": ("Jahresbericht 2", "amt-personal"),
    "1.1.3": ("Jahresbericht 3", "amt-personal"),
    "1.1.4": ("Jahresbericht 3", "amt-personal"),
    "2.1.1": ("Jahresbericht 2", "amt-personal"),
    "2.1.2": ("Jahresbericht 3", "amt-personal"),
    "2.2.1": ("Jahresbericht 2", "gebaeudemanagement"),
    "3.1.1": ("Jahresbericht 2", "amt-informationsverarbeitung"),
    "3.1.2": ("Jahresbericht 2", "projektteam-berufleben"),
    "3.1.3": ("Jahresbericht 3", "projektteam-berufleben"),
    "3.1.4": ("Jahresbericht 3", "amt-personal"),
    "3.1.5": ("Jahresbericht 3", "projektteam-berufleben"),
    "4.1.1": ("Jahresbericht 3", "amt-personal"),
    "4.2.1": ("Jahresbericht 1", "projektteam-berufleben"),
    "4.2.2": ("Jahresbericht 2", "projektteam-berufleben"),
    "4.2.3": ("Jahresbericht 2", "amt-personal"),
    "5.1.1": ("Jahresbericht 1", "amt-personal"),
    "5.1.2": ("Jahresbericht 1", "projektteam-berufleben"),
    "5.1.3": ("Jahresbericht 2", "amt-personal"),
    "5.2.1": ("Jahresbericht 2", "projektteam-berufleben"),
    "6.1.1": ("Jahresbericht 2", "amt-personal"),
    "6.1.2": ("Jahresbericht 2", "amt-personal"),
    "6.1.3": ("Jahresbericht 2", "projektteam-berufleben"),
    "8.1.1": ("Jahresbericht 1", "projektteam-berufleben"),
    "8.1.2": ("Jahresbericht 1", "projektteam-berufleben"),
    "8.1.3": ("Jahresbericht 2", "amt-kinder-jugend-familie"),
    "8.2.1": ("Jahresbericht 1", "projektteam-berufleben"),
    "8.2.2": ("Jahresbericht 3", "projektteam-berufleben"),
    "8.3.1": ("Jahresbericht 3", "amt-personal"),
}
# Measures the agreement only promises to examine ("Erwägung", "Klärung", "Überprüfung",
# "Überlegungen", "PRÜFUNG"); they must not be presented as planned.
KOELN_UNDER_REVIEW = {"1.1.3", "1.1.4", "2.2.1", "3.1.4", "3.1.5", "4.2.3", "8.2.2", "8.3.1"}


@pytest.fixture(scope="module")
def koeln() -> KnowledgeBase:
    return load_knowledge(KOELN)


@pytest.fixture(scope="module")
def herne() -> KnowledgeBase:
    return load_knowledge(HERNE)


def errors(directory: Path) -> list[tuple[str, int | None, str]]:
    """(file name, line, message) of every error, in the order the validation found them."""
    _, problems = validate(directory)
    return [(Path(p.file).name, p.line, p.message) for p in problems if p.severity == "fehler"]


# --- the bundled knowledge bases ----------------------------------------------------------------


def test_koeln_has_exactly_the_29_measures_of_the_target_agreement(koeln: KnowledgeBase) -> None:
    measures = [e for e in koeln.entries.values() if e.kind == "measure" and e.ref]
    assert len(KOELN_MEASURES) == 29
    assert sorted(e.ref or "" for e in measures) == sorted(KOELN_MEASURES)


@pytest.mark.parametrize("ref", KOELN_MEASURES)
def test_every_koeln_measure_says_for_whom_how_far_until_when_and_who(
    koeln: KnowledgeBase, ref: str
) -> None:
    measure = koeln.by_ref[ref]
    deadline, first_responsible = KOELN_MEASURES[ref]
    assert measure.kind == "measure"
    assert measure.target_group
    assert measure.status in STATUS_LABELS
    assert measure.deadline == deadline
    assert measure.contacts, "no responsible contact"
    assert all(koeln.entries[c].kind == "contact" for c in measure.contacts)
    assert first_responsible in measure.contacts
    # As the agreement words it – or further along, once an admin records the progress.
    assert measure.status != ("geplant" if ref in KOELN_UNDER_REVIEW else "pruefung")
    assert koeln.topics[measure.topic].number == int(ref.split(".")[0])


def test_koeln_field_of_action_7_has_no_measures_but_explains_why(koeln: KnowledgeBase) -> None:
    (topic,) = [t for t in koeln.topics.values() if t.number == 7]
    assert koeln.in_topic(topic.id) == []
    assert topic.note and "keine" in topic.note


def test_counselling_services_point_to_existing_measures(koeln: KnowledgeBase) -> None:
    services = [e for e in koeln.entries.values() if e.kind == "counselling"]
    assert services
    assert any(s.related_refs for s in services)  # an admin's new service may stand alone
    for service in services:
        assert service.ref is None
        assert all(ref in KOELN_MEASURES for ref in service.related_refs)


@pytest.mark.parametrize("directory", [KOELN, HERNE], ids=["koeln", "herne"])
def test_bundled_knowledge_bases_validate_without_errors(directory: Path) -> None:
    kb, problems = validate(directory)
    assert [str(p) for p in problems if p.severity == "fehler"] == []
    assert kb is not None
    assert kb.counselling_contact.kind == "contact"


# --- no invented contact data -------------------------------------------------------------------

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
WEB = re.compile(
    r"(?:https?://)?(?:www\.)?((?:[a-z0-9-]+\.)+(?:de|com|org|net|eu|info|nrw|koeln|ruhr))\b",
    re.IGNORECASE,
)
# Digit groups joined by spaces, slashes, dashes or brackets, like "0221 221-0" or "116 016".
PHONE = re.compile(r"(?<![\w.])\+?\(?\d[\d /()-]*\d(?![\w.])")
EMERGENCY = re.compile(r"(?<![\w.])11[02](?![\w.])")


def phone_numbers(text: str) -> list[str]:
    return [m for m in PHONE.findall(text) if sum(c.isdigit() for c in m) >= 5]


def yaml_text(directory: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.yaml")))


def entry_text(kb: KnowledgeBase, entry_id: str) -> str:
    values = kb.entries[entry_id].to_json().values()
    return "\n".join(
        v if isinstance(v, str) else " ".join(v) for v in values if isinstance(v, str | list)
    )


def test_koeln_contains_no_phone_numbers_mail_or_web_addresses() -> None:
    text = yaml_text(KOELN)
    assert EMAIL.findall(text) == []
    assert WEB.findall(text) == []
    assert phone_numbers(text) == []
    assert EMERGENCY.findall(text) == []


def test_herne_names_only_its_published_website_and_public_emergency_numbers(
    herne: KnowledgeBase,
) -> None:
    text = yaml_text(HERNE)
    assert EMAIL.findall(text) == []
    assert {host.lower() for host in WEB.findall(text)} == {"frau-und-beruf-herne.de"}
    assert "www.frau-und-beruf-herne.de" in text
    assert set(phone_numbers(text)) == {"116 016"}  # Hilfetelefon „Gewalt gegen Frauen“
    holders = [e.id for e in herne.entries.values() if "116 016" in entry_text(herne, e.id)]
    assert holders == ["haeusliche-gewalt"]
    violence = herne.entries["haeusliche-gewalt"].answer
    assert "110" in violence and "116 016" in violence  # police emergency call and helpline


# --- every mistake in German, with file and line -----------------------------------------------


def test_a_valid_folder_loads(make_kb: MakeKb) -> None:
    kb, problems = validate(make_kb())
    assert problems == []
    assert kb is not None
    assert kb.by_ref["1.1.1"].id == "gleitzeit"


def test_an_example_question_may_be_a_short_story_but_a_keyword_may_not(
    make_kb: MakeKb,
) -> None:
    """Employees write whole stories; a keyword of that length is a pasted paragraph."""
    story = ("Meine Tochter kommt nach den Ferien in die Schule. " * 6).strip()  # 305 characters
    keywords = 'stichworte: ["Gleitzeit", "Kernzeit"]'
    assert keywords in MINIMAL_KB["massnahmen"]
    entry = MINIMAL_KB["massnahmen"].replace(keywords, '{field}: ["{text}"]')
    kb, problems = validate(make_kb(massnahmen=entry.format(field="beispielfragen", text=story)))
    assert kb is not None and problems == []
    assert kb.entries["gleitzeit"].examples == (story,)
    for field, text, limit in (("stichworte", story, 200), ("beispielfragen", story * 2, 400)):
        kb, problems = validate(make_kb(massnahmen=entry.format(field=field, text=text)))
        assert kb is None
        assert (
            f"Feld '{field}' hat ein zu langes Element 1 ({len(text)} Zeichen, höchstens "
            f"{limit})" in str(problems[0])
        )


def test_problem_reads_file_comma_line_colon_message() -> None:
    problem = Problem(
        "knowledge/koeln/massnahmen.yaml", 42, "Eintrag 'gleitzeit': Pflichtfeld 'antwort' fehlt"
    )
    assert str(problem) == (
        "knowledge/koeln/massnahmen.yaml, Zeile 42: "
        "Eintrag 'gleitzeit': Pflichtfeld 'antwort' fehlt"
    )
    warning = Problem("kb/a.yaml", None, "Datei ist leer", "warnung")
    assert str(warning) == "kb/a.yaml: Warnung: Datei ist leer"


def test_yaml_syntax_error(make_kb: MakeKb) -> None:
    kb = make_kb(
        massnahmen="""\
        massnahmen:
          - id: gleitzeit
            titel: Gleitzeit
             thema: arbeitszeit
        """
    )
    [(name, line, message)] = errors(kb)
    assert (name, line) == ("massnahmen.yaml", 4)
    assert message.startswith("YAML-Syntaxfehler: ")


def test_tab_indentation_is_a_syntax_error_on_its_line(make_kb: MakeKb) -> None:
    kb = make_kb(massnahmen="massnahmen:\n  - id: gleitzeit\n\ttitel: Gleitzeit\n")
    [(name, line, message)] = errors(kb)
    assert (name, line) == ("massnahmen.yaml", 3)
    assert message.startswith("YAML-Syntaxfehler: ")


def test_unknown_field_suggests_the_known_one(make_kb: MakeKb) -> None:
    kb = make_kb(
        massnahmen="""\
        massnahmen:
          - id: gleitzeit
            titel: "Gleitzeit"
            thema: arbeitszeit
            antwort: "Sie wählen Beginn und Ende frei."
            zielgruppe: "alle"
            status: geplant
            zustaendig: [amt-personal]
            beispielfrage: ["gibt es gleitzeit"]
        """
    )
    assert errors(kb) == [
        (
            "massnahmen.yaml",
            9,
            "Eintrag 'gleitzeit': unbekanntes Feld 'beispielfrage' (meinten Sie 'beispielfragen'?)",
        ),
    ]


def test_unknown_section_suggests_the_known_one(make_kb: MakeKb) -> None:
    kb = make_kb(
        beratung="""\
        # Beratungsangebote
        beratungsangebot:
          - id: elternzeit
        """
    )
    [(name, line, message)] = errors(kb)
    assert (name, line) == ("beratung.yaml", 2)
    assert message.startswith(
        "unbekannter Abschnitt 'beratungsangebot' (meinten Sie 'beratungsangebote'?)"
    )


@pytest.mark.parametrize(
    ("field", "value", "complaint", "fix"),
    [
        (
            "stichworte",
            '"Gleitzeit"',
            "muss eine Liste von Texten sein, nicht Text",
            'als Liste schreiben: »stichworte: ["…", "…"]« oder je Zeile »- "…"«',
        ),
        (
            "titel",
            "2020",
            "muss Text sein, nicht Zahl",
            'den Wert in Anführungszeichen setzen: »titel: "…"«',
        ),
        (
            "zielgruppe",
            "",
            "muss Text sein, nicht leer",
            'den Text hinter den Doppelpunkt schreiben: »zielgruppe: "…"«',
        ),
        (
            "status",
            "yes",
            "muss Text sein, nicht Ja/Nein-Wert",
            'den Wert in Anführungszeichen setzen: »status: "…"«',
        ),
        (
            "ref",
            "1.1",
            "muss Text sein, nicht Zahl",
            'den Wert in Anführungszeichen setzen: »ref: "…"«',
        ),
        (
            "umsetzung_bis",
            "2021-06-30",
            "muss Text sein, nicht Datum",
            'den Wert in Anführungszeichen setzen: »umsetzung_bis: "…"«',
        ),
        (
            "zustaendig",
            "amt-personal",
            "muss eine Liste von Texten sein, nicht Text",
            'als Liste schreiben: »zustaendig: ["…", "…"]« oder je Zeile »- "…"«',
        ),
        ("antwort", '""', "darf nicht leer sein", "einen Text eintragen"),
    ],
)
def test_wrong_type_is_named_in_plain_german(
    make_kb: MakeKb, field: str, value: str, complaint: str, fix: str
) -> None:
    fields = {
        "ref": '"1.1.1"',
        "titel": '"Gleitzeit"',
        "thema": "arbeitszeit",
        "antwort": '"Sie wählen Beginn und Ende frei."',
        "zielgruppe": '"alle"',
        "status": "geplant",
        "umsetzung_bis": '"Jahresbericht 2"',
        "zustaendig": "[amt-personal]",
        "stichworte": '["Gleitzeit"]',
    }
    fields[field] = value
    lines = ["massnahmen:", "  - id: gleitzeit", *(f"    {k}: {v}" for k, v in fields.items())]
    kb = make_kb(massnahmen="\n".join(lines) + "\n")
    line = 3 + list(fields).index(field)
    assert errors(kb) == [
        (
            "massnahmen.yaml",
            line,
            f"Eintrag 'gleitzeit': Feld '{field}' {complaint}. Lösung: {fix}.",
        ),
    ]


def test_missing_required_field_points_at_the_entry(make_kb: MakeKb) -> None:
    kb = make_kb(
        massnahmen="""\
        massnahmen:
          - id: kernzeit
            titel: "Kernzeit"
            thema: arbeitszeit
            antwort: "Es gibt keine Kernzeit mehr."
            zielgruppe: "alle"
            status: geplant
            zustaendig: [amt-personal]

          - id: gleitzeit
            titel: "Gleitzeit"
            thema: arbeitszeit
            zielgruppe: "alle"
            status: geplant
            zustaendig: [amt-personal]
        """
    )
    assert errors(kb) == [
        ("massnahmen.yaml", 10, "Eintrag 'gleitzeit': Pflichtfeld 'antwort' fehlt"),
    ]


def test_duplicate_id_names_where_it_was_first_used(make_kb: MakeKb) -> None:
    kb = make_kb(
        zusatz="""\
        beratungsangebote:
          - id: gleitzeit
            titel: "Beratung zur Gleitzeit"
            thema: arbeitszeit
            antwort: "Die Beratungsstelle erklärt die Gleitzeit."
            zielgruppe: "alle"
            status: verfuegbar
            zustaendig: [beratung]
        """
    )
    [(name, line, message)] = errors(kb)
    assert (name, line) == ("zusatz.yaml", 2)
    assert message.startswith("Eintrag 'gleitzeit': id doppelt vergeben (zuerst in ")
    assert message.endswith(
        "massnahmen.yaml, Zeile 2). Lösung: hier eine andere id wählen oder einen der beiden "
        "Einträge löschen."
    )


def test_duplicate_ref_names_the_other_entry(make_kb: MakeKb) -> None:
    kb = make_kb(
        massnahmen="""\
        massnahmen:
          - id: gleitzeit
            ref: "1.1.1"
            titel: "Gleitzeit"
            thema: arbeitszeit
            antwort: "Sie wählen Beginn und Ende frei."
            zielgruppe: "alle"
            status: geplant
            zustaendig: [amt-personal]
          - id: kernzeit
            ref: "1.1.1"
            titel: "Kernzeit"
            thema: arbeitszeit
            antwort: "Es gibt keine Kernzeit mehr."
            zielgruppe: "alle"
            status: geplant
            zustaendig: [amt-personal]
        """
    )
    [(name, line, message)] = errors(kb)
    assert (name, line) == ("massnahmen.yaml", 11)
    assert message.startswith("Eintrag 'kernzeit': ref '1.1.1' doppelt (auch bei 'gleitzeit' in ")
    assert "massnahmen.yaml, Zeile 3). Lösung: die Nummer mit der Quelle vergleichen" in message


def test_unknown_contact_in_zustaendig_with_suggestion(make_kb: MakeKb) -> None:
    kb = make_kb(
        massnahmen="""\
        massnahmen:
          - id: gleitzeit
            titel: "Gleitzeit"
            thema: arbeitszeit
            antwort: "Sie wählen Beginn und Ende frei."
            zielgruppe: "alle"
            status: geplant
            zustaendig: [amt-persnal]
        """
    )
    assert errors(kb) == [
        (
            "massnahmen.yaml",
            8,
            "Eintrag 'gleitzeit': unbekannter Kontakt 'amt-persnal' in "
            "'zustaendig' (meinten Sie 'amt-personal'?)",
        ),
    ]


def test_a_measure_is_not_a_contact(make_kb: MakeKb) -> None:
    kb = make_kb(
        massnahmen="""\
        massnahmen:
          - id: gleitzeit
            titel: "Gleitzeit"
            thema: arbeitszeit
            antwort: "Sie wählen Beginn und Ende frei."
            zielgruppe: "alle"
            status: geplant
            zustaendig: [gleitzeit]
        """
    )
    [(name, line, message)] = errors(kb)
    assert (name, line) == ("massnahmen.yaml", 8)
    assert message.startswith("Eintrag 'gleitzeit': unbekannter Kontakt 'gleitzeit'")


def test_unknown_topic_with_suggestion(make_kb: MakeKb) -> None:
    kb = make_kb(
        massnahmen="""\
        massnahmen:
          - id: gleitzeit
            titel: "Gleitzeit"
            thema: arbeitzeit
            antwort: "Sie wählen Beginn und Ende frei."
            zielgruppe: "alle"
            status: geplant
            zustaendig: [amt-personal]
        """
    )
    assert errors(kb) == [
        (
            "massnahmen.yaml",
            4,
            "Eintrag 'gleitzeit': unbekanntes Thema 'arbeitzeit' (meinten Sie 'arbeitszeit'?)",
        ),
    ]


def test_unknown_status_lists_the_allowed_ones(make_kb: MakeKb) -> None:
    kb = make_kb(
        massnahmen="""\
        massnahmen:
          - id: gleitzeit
            titel: "Gleitzeit"
            thema: arbeitszeit
            antwort: "Sie wählen Beginn und Ende frei."
            zielgruppe: "alle"
            status: fertig
            zustaendig: [amt-personal]
        """
    )
    assert errors(kb) == [
        (
            "massnahmen.yaml",
            7,
            "Eintrag 'gleitzeit': status 'fertig' unbekannt "
            "(erlaubt: geplant, pruefung, umsetzung, verfuegbar)",
        ),
    ]


def test_unknown_measure_in_a_counselling_service(make_kb: MakeKb) -> None:
    kb = make_kb(
        beratungsangebote="""\
        beratungsangebote:
          - id: beratung-gleitzeit
            titel: "Beratung zur Gleitzeit"
            thema: arbeitszeit
            antwort: "Die Beratungsstelle erklärt die Gleitzeit."
            zielgruppe: "alle"
            status: verfuegbar
            zustaendig: [beratung]
            massnahmen: ["1.1.9"]
        """
    )
    assert errors(kb) == [
        (
            "beratungsangebote.yaml",
            9,
            "Eintrag 'beratung-gleitzeit': unbekannte Maßnahme '1.1.9' in 'massnahmen'",
        ),
    ]


def test_same_keyword_on_two_entries_is_only_a_warning(make_kb: MakeKb) -> None:
    directory = make_kb(
        zusatz="""\
        beratungsangebote:
          - id: beratung-gleitzeit
            titel: "Beratung zur Gleitzeit"
            thema: arbeitszeit
            antwort: "Die Beratungsstelle erklärt die Gleitzeit."
            zielgruppe: "alle"
            status: verfuegbar
            zustaendig: [beratung]
            stichworte: ["GLEITZEIT", "Beratung"]
        """
    )
    kb, problems = validate(directory)
    assert kb is not None, "a warning must not stop the knowledge base from loading"
    assert [(Path(p.file).name, p.line, p.message, p.severity) for p in problems] == [
        (
            "massnahmen.yaml",
            2,
            "Stichwort 'gleitzeit' steht bei mehreren Einträgen: gleitzeit, beratung-gleitzeit",
            "warnung",
        ),
    ]
    assert kb.warnings == tuple(problems)
    assert load_knowledge(directory).entries.keys() == kb.entries.keys()


# --- hostile or damaged files -------------------------------------------------------------------


def test_python_tags_are_rejected_and_never_executed(make_kb: MakeKb, tmp_path: Path) -> None:
    marker = tmp_path / "ausgefuehrt"
    kb = make_kb(
        massnahmen=f"""\
        # harmlos aussehender Kommentar
        massnahmen: !!python/object/apply:os.system ["touch {marker}"]
        """
    )
    assert errors(kb) == [
        (
            "massnahmen.yaml",
            2,
            "YAML-Tag 'tag:yaml.org,2002:python/object/apply:os.system' ist nicht erlaubt",
        ),
    ]
    assert not marker.exists()


def test_custom_tags_are_rejected(make_kb: MakeKb) -> None:
    kb = make_kb(massnahmen="massnahmen: !include geheim.yaml\n")
    assert errors(kb) == [
        (
            "massnahmen.yaml",
            1,
            "YAML-Tag '!include' ist nicht erlaubt. Lösung: soll der Text mit »!« beginnen, "
            "den ganzen Wert in Anführungszeichen setzen.",
        )
    ]


def test_alias_bomb_is_rejected_at_its_first_anchor(make_kb: MakeKb) -> None:
    """Billion laughs: nine levels of ten aliases each would expand to 10⁹ strings."""
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for upper, lower in zip("bcdefghi", "abcdefgh", strict=True):
        levels.append(f"{upper}: &{upper} [{','.join(['*' + lower] * 10)}]")
    kb = make_kb(massnahmen="# Angriff\n" + "\n".join(levels) + "\n")
    [(name, line, message)] = errors(kb)
    assert (name, line) == ("massnahmen.yaml", 2)
    assert message.startswith("Anker (&name) sind nicht erlaubt")


def test_alias_without_anchor_is_rejected_too(make_kb: MakeKb) -> None:
    kb = make_kb(massnahmen="massnahmen:\n  - *vorlage\n")
    [(name, line, message)] = errors(kb)
    assert (name, line) == ("massnahmen.yaml", 2)
    assert message.startswith("Aliase (*name) sind nicht erlaubt")


def test_file_over_one_megabyte_is_rejected_by_its_size(make_kb: MakeKb) -> None:
    directory = make_kb()
    huge = directory / "riesig.yaml"
    with huge.open("wb") as fh:  # sparse: 4 GiB that are never written, let alone read
        fh.truncate(4 * 1024**3)
    assert errors(directory) == [
        (
            "riesig.yaml",
            None,
            f"Datei ist zu groß (4194304 KB, höchstens {MAX_FILE_BYTES // 1024} KB erlaubt)",
        ),
    ]


def test_file_of_exactly_the_limit_is_still_read(make_kb: MakeKb) -> None:
    directory = make_kb()
    path = directory / "massnahmen.yaml"
    text = path.read_text(encoding="utf-8")
    padding = MAX_FILE_BYTES - len(text.encode()) - 1
    path.write_text(text + "#" + "x" * (padding - 1) + "\n", encoding="utf-8")
    assert path.stat().st_size == MAX_FILE_BYTES
    assert errors(directory) == []
    with path.open("a", encoding="utf-8") as fh:
        fh.write("#")
    [(_, _, message)] = errors(directory)
    assert message.startswith("Datei ist zu groß")


def test_too_many_nodes_are_rejected(make_kb: MakeKb) -> None:
    items = "".join(f"  - wort{i}\n" for i in range(10_001))
    kb = make_kb(liste="stichworte:\n" + items)
    [(name, _line, message)] = errors(kb)
    assert name == "liste.yaml"
    assert message == "zu viele Elemente (höchstens 10000)"


def test_file_that_is_not_utf8(make_kb: MakeKb) -> None:
    directory = make_kb()
    (directory / "latin1.yaml").write_bytes(
        "themen:\n  - id: f\n    titel: Führung\n".encode("latin-1")
    )
    [(name, line, message)] = errors(directory)
    assert (name, line) == ("latin1.yaml", 3)
    assert message.startswith("Datei ist nicht UTF-8-kodiert (vermutlich „ANSI“/Windows-1252)")
    assert "»titel: Führung«" in message
    assert message.endswith(
        "„Speichern unter“ wählen und unten bei „Codierung“ „UTF-8“ einstellen."
    )


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "notizen.txt").write_text("keine YAML-Datei", encoding="utf-8")
    kb, problems = validate(tmp_path)
    assert kb is None
    assert [p.message for p in problems] == ["keine YAML-Dateien (*.yaml) gefunden"]


def test_missing_folder(tmp_path: Path) -> None:
    kb, problems = validate(tmp_path / "gibt-es-nicht")
    assert kb is None
    assert [p.message for p in problems] == ["Ordner der Wissensbasis nicht gefunden"]


def test_empty_file_is_a_warning(make_kb: MakeKb) -> None:
    directory = make_kb(leer="# noch nichts\n")
    kb, problems = validate(directory)
    assert kb is not None
    assert [(Path(p.file).name, p.message, p.severity) for p in problems] == [
        ("leer.yaml", "Datei ist leer", "warnung"),
    ]


def test_file_cut_off_inside_a_quoted_answer(koeln_copy: Path) -> None:
    """An editor crash while saving: the file ends in the middle of an entry's text."""
    path = koeln_copy / "massnahmen.yaml"
    text = path.read_text(encoding="utf-8")
    cut = text.index("die Dienstvereinbarung zur gleitenden Arbeitszeit")
    path.write_text(text[:cut], encoding="utf-8")
    last_line = text[:cut].count("\n") + 1
    problems = errors(koeln_copy)
    assert problems[0][:2] == ("massnahmen.yaml", last_line)
    assert problems[0][2].startswith("YAML-Syntaxfehler: ")
    # The services in the other file lose the measures they belong to; that is reported too,
    # with the reason.
    assert (
        "beratungsangebote.yaml",
        19,
        "Eintrag 'beratung-ploetzlich-pflege': unbekannte Maßnahme '4.2.1' in 'massnahmen' – "
        "steht vielleicht in massnahmen.yaml; die Datei wird wegen des Fehlers dort nicht gelesen",
    ) in problems


def test_file_cut_off_between_two_fields_of_an_entry(koeln_copy: Path) -> None:
    path = koeln_copy / "massnahmen.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = lines.index("  - id: einsatzplaene-flexibel\n")
    path.write_text("".join(lines[: start + 3]), encoding="utf-8")  # id, ref, titel
    missing = [
        (name, line, message)
        for name, line, message in errors(koeln_copy)
        if name == "massnahmen.yaml"
    ]
    assert missing == [
        (
            "massnahmen.yaml",
            start + 1,
            f"Eintrag 'einsatzplaene-flexibel': Pflichtfeld '{field}' fehlt",
        )
        for field in ("thema", "antwort", "zielgruppe", "status", "zustaendig")
    ]


def test_all_problems_of_all_files_are_reported_together(make_kb: MakeKb) -> None:
    directory = make_kb(
        massnahmen="""\
            massnahmen:
              - id: gleitzeit
                titel: "Gleitzeit
            """,
        beratungsangebote="""\
            beratungsangebote:
              - id: beratung-elternzeit
                titel: "Elternzeit"
                thema: familie
                antwort: "Die Beratungsstelle hilft beim Planen."
                zielgruppe: "werdende Eltern"
                status: geplant
                zustaendig: [beratungstelle]
                stichwort: ["Elternzeit"]
              - id: beratung-pflege
                titel: "Pflege"
                thema: pflege
                antwort: "Die Beratungsstelle hilft."
                zielgruppe: "pflegende Angehörige"
                status: verfuegbar
                zustaendig: [beratung]
            """,
        gefahr="x: !!python/name:os.system\n",
    )
    found = errors(directory)
    assert [(name, line) for name, line, _ in found] == [
        ("beratungsangebote.yaml", 9),  # unknown field 'stichwort'
        ("gefahr.yaml", 1),  # python tag
        ("massnahmen.yaml", 3),  # unterminated quote, on the line where it opens
        ("beratungsangebote.yaml", 12),  # unknown topic 'pflege'
    ]
    assert "meinten Sie 'stichworte'" in found[0][2]
    assert "nicht erlaubt" in found[1][2]
    assert found[2][2].startswith("YAML-Syntaxfehler")
    assert "unbekanntes Thema 'pflege'" in found[3][2]


def test_load_knowledge_raises_with_every_error_in_its_message(make_kb: MakeKb) -> None:
    from bot.knowledge.schema import KnowledgeError

    directory = make_kb(organisation=None)
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(directory)
    assert "Abschnitt 'organisation' fehlt" in str(info.value)
    assert all(p.severity == "fehler" for p in info.value.problems)
