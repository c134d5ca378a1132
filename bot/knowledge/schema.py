"""Validation of a knowledge base folder: YAML files in, a KnowledgeBase or German problems out.

Admins edit these files by hand, so every problem is reported in German with file and line, and
all problems of a folder are collected in one pass instead of stopping at the first. The data
types live in ``bot.knowledge.model`` and are re-exported here for existing imports.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.knowledge.model import (
    KIND_LABELS,
    STATUS_LABELS,
    Entry,
    Kind,
    KnowledgeBase,
    Organisation,
    Problem,
    Topic,
)
from bot.knowledge.yamlsafe import (
    SAVE_AS_UTF8,
    LineDict,
    LineList,
    YamlError,
    find_mojibake,
    parse_yaml,
    read_text,
    unreadable_reason,
)

__all__ = [
    "KIND_LABELS",
    "STATUS_LABELS",
    "Entry",
    "Kind",
    "KnowledgeBase",
    "KnowledgeError",
    "Organisation",
    "Problem",
    "Topic",
    "load_knowledge",
    "validate",
]

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
REF_PATTERN = re.compile(r"^\d{1,2}(\.\d{1,2}){1,3}$")
MAX_TOPIC_TITLE = 30
MAX_FILES = 50
# Longest texts an entry may have: a card must fit one Telegram message (4096 characters), a
# title stands on buttons and above the card. Far above what the bundled knowledge bases use.
MAX_CHARS = {
    "titel": 100,
    "name": 100,
    "antwort": 2500,
    "zielgruppe": 400,
    "hinweis": 600,
    "beschreibung": 400,
    "quelle": 300,
    "umsetzung_bis": 80,
    "web": 300,
    "email": 120,
    "telefon": 80,
    "adresse": 300,
    "begruessung": 1500,
}
MAX_ITEM_CHARS = 200  # one keyword
# An example question may be a short life story: that is how employees write, and stories
# among the examples lifted Köln's stories found outright from 0.45 to 0.73 (train+dev).
MAX_ITEM_CHARS_BY_KEY = {"beispielfragen": 400}
MAX_CARD = 4096
CARD_FRAME = 400  # labels, status sentence and line breaks the card adds around the fields
SEARCH_FILE = "suche.yaml"
"""The search lexicon of an organisation (bot/knowledge/lexicon.py), not an entries file."""


class KnowledgeError(Exception):
    """The folder is not a valid knowledge base; ``problems`` holds every finding."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "fehler"]
        super().__init__("\n".join(str(p) for p in errors))


# --- schema ---------------------------------------------------------------------------------

Check = Callable[[Any], str | None]


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return None
    if isinstance(value, str):
        return "darf nicht leer sein"
    return f"muss Text sein, nicht {_type_name(value)}"


def _text_list(value: Any) -> str | None:
    if not isinstance(value, list):
        return f"muss eine Liste von Texten sein, nicht {_type_name(value)}"
    for number, item in enumerate(value, start=1):
        if isinstance(item, str) and not item.strip():
            return f"muss eine Liste von Texten sein (Element {number} ist leer)"
        if not isinstance(item, str):
            return (
                f"muss eine Liste von Texten sein (Element {number} ist {_type_name(item)},"
                " nicht Text)"
            )
    return None


def _int(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return None
    return f"muss eine Zahl sein, nicht {_type_name(value)}"


def _type_name(value: Any) -> str:
    return {
        dict: "Abschnitt",
        LineDict: "Abschnitt",
        list: "Liste",
        LineList: "Liste",
        bool: "Ja/Nein-Wert",
        int: "Zahl",
        float: "Zahl",
        type(None): "leer",
        str: "Text",
        datetime.date: "Datum",
        datetime.datetime: "Datum",
    }.get(type(value), "ein unbekannter Wert")


def _type_hint(key: str, value: Any, check: Check, required: bool) -> str:
    """How to write the value so that it has the expected type."""
    example = f'»{key}: "…"«'
    if check is _int:
        return f"nur Ziffern ohne Anführungszeichen schreiben, z. B. »{key}: 3«"
    if check is _text_list:
        if isinstance(value, list):
            return (
                "jedes Element in Anführungszeichen setzen (ein Doppelpunkt im Text macht"
                " sonst einen Abschnitt daraus)"
            )
        return f'als Liste schreiben: »{key}: ["…", "…"]« oder je Zeile »- "…"«'
    if value is None:
        optional = "" if required else " oder die Zeile löschen"
        return f"den Text hinter den Doppelpunkt schreiben{optional}: {example}"
    if isinstance(value, str):
        return f"einen Text eintragen{'' if required else ' oder die Zeile löschen'}"
    if isinstance(value, dict):
        return (
            f"den Text in dieselbe Zeile schreiben: {example}; tiefer eingerückte Zeilen"
            f" darunter gelten als Teil von '{key}'"
        )
    if isinstance(value, list):
        return f"nur einen Text angeben: {example}"
    return f"den Wert in Anführungszeichen setzen: {example}"


# field name -> (check, required)
Schema = dict[str, tuple[Check, bool]]

ORGANISATION: Schema = {
    "name": (_text, True),
    "beratung": (_text, True),
    "quelle": (_text, True),
    "stand": (_text, False),
    "begruessung": (_text, False),
    "name_en": (_text, False),
    "begruessung_en": (_text, False),
    "quelle_en": (_text, False),
}
TOPIC: Schema = {
    "id": (_text, True),
    "titel": (_text, True),
    "nummer": (_int, False),
    "beschreibung": (_text, False),
    "hinweis": (_text, False),
    "titel_en": (_text, False),
    "beschreibung_en": (_text, False),
    "hinweis_en": (_text, False),
}
_SEARCHABLE: Schema = {
    "stichworte": (_text_list, False),
    "beispielfragen": (_text_list, False),
}
_SEARCHABLE_EN: Schema = {
    "stichworte_en": (_text_list, False),
    "beispielfragen_en": (_text_list, False),
}
CONTACT: Schema = {
    "id": (_text, True),
    "name": (_text, True),
    "antwort": (_text, True),
    "web": (_text, False),
    "email": (_text, False),
    "telefon": (_text, False),
    "adresse": (_text, False),
    "hinweis": (_text, False),
    "thema": (_text, False),
    **_SEARCHABLE,
    "name_en": (_text, False),
    "antwort_en": (_text, False),
    "hinweis_en": (_text, False),
    **_SEARCHABLE_EN,
}
MEASURE: Schema = {
    "id": (_text, True),
    "ref": (_text, False),
    "titel": (_text, True),
    "thema": (_text, True),
    "antwort": (_text, True),
    "zielgruppe": (_text, True),
    "status": (_text, True),
    "umsetzung_bis": (_text, False),
    "zustaendig": (_text_list, True),
    "quelle": (_text, False),
    "hinweis": (_text, False),
    **_SEARCHABLE,
    "titel_en": (_text, False),
    "antwort_en": (_text, False),
    "zielgruppe_en": (_text, False),
    "hinweis_en": (_text, False),
    "quelle_en": (_text, False),
    **_SEARCHABLE_EN,
}
COUNSELLING: Schema = {
    **{k: v for k, v in MEASURE.items() if k != "ref"},
    "massnahmen": (_text_list, False),
    "web": (_text, False),
}
ENGLISH_SUFFIX = "_en"
"""English fields are the German field's name plus ``_en`` (knowledge/README.md, "Englisch")."""
SECTIONS: dict[str, tuple[Schema, Kind | None]] = {
    "organisation": (ORGANISATION, None),
    "themen": (TOPIC, None),
    "kontakte": (CONTACT, "contact"),
    "massnahmen": (MEASURE, "measure"),
    "beratungsangebote": (COUNSELLING, "counselling"),
}


# --- loading --------------------------------------------------------------------------------


@dataclass
class _Collector:
    """Accumulates problems and raw items while the files of a folder are read."""

    problems: list[Problem] = field(default_factory=list)
    organisations: list[tuple[str, LineDict]] = field(default_factory=list)
    topics: list[tuple[str, LineDict]] = field(default_factory=list)
    items: list[tuple[str, Kind, LineDict]] = field(default_factory=list)
    # When each file was last saved: a duplicate is blamed on the file edited last.
    saved: dict[str, int] = field(default_factory=dict)
    # Files that could not be read: what they define shows up as "unknown" elsewhere.
    unreadable: list[str] = field(default_factory=list)

    def error(self, file: str, line: int | None, message: str) -> None:
        self.problems.append(Problem(file, line, message))

    def warn(self, file: str, line: int | None, message: str) -> None:
        self.problems.append(Problem(file, line, message, "warnung"))


def validate(directory: Path) -> tuple[KnowledgeBase | None, list[Problem]]:
    """Read and check a folder; returns the knowledge base only when there is no error."""
    directory = Path(directory)
    col = _Collector()
    label = _display(directory)
    try:
        if not directory.is_dir():
            col.error(label, None, "Ordner der Wissensbasis nicht gefunden")
            return None, col.problems
        names = sorted(
            p
            for p in directory.iterdir()
            if p.suffix in (".yaml", ".yml") and p.name != SEARCH_FILE
        )
    except OSError as exc:
        col.error(label, None, f"Ordner der Wissensbasis nicht lesbar ({unreadable_reason(exc)})")
        return None, col.problems
    files = [p for p in names if _regular_file(p, col)]
    if not files:
        col.error(label, None, "keine YAML-Dateien (*.yaml) gefunden")
        return None, col.problems
    if len(files) > MAX_FILES:
        col.error(label, None, f"zu viele YAML-Dateien ({len(files)}, höchstens {MAX_FILES})")
        return None, col.problems
    digest = hashlib.sha256()
    for path in files:
        name = _display(path)
        text = _read_file(path, name, col)
        if text is None:
            col.unreadable.append(name)
            continue
        digest.update(path.name.encode() + b"\0" + text.encode("utf-8"))
        try:
            data = parse_yaml(text)
        except YamlError as exc:
            col.error(name, exc.line, exc.message)
            col.unreadable.append(name)
            continue
        _read_sections(name, data, col)
    kb = _assemble(directory, col, digest.hexdigest()[:12])
    has_errors = any(p.severity == "fehler" for p in col.problems)
    return (None if has_errors else kb), col.problems


def load_knowledge(directory: Path) -> KnowledgeBase:
    """Load a folder or raise KnowledgeError with every problem found."""
    kb, problems = validate(directory)
    if kb is None:
        raise KnowledgeError(problems)
    return kb


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _regular_file(path: Path, col: _Collector) -> bool:
    """A ``*.yaml`` that is a folder, a dangling link or unreadable is an error, never skipped
    in silence: the entries it should hold would just be missing."""
    name = _display(path)
    try:
        if path.is_file():
            return True
        if path.is_dir():
            col.error(
                name,
                None,
                "ist ein Ordner, keine Datei – die Einträge, die hier stehen sollten, fehlen."
                " Lösung: den Ordner umbenennen oder die Datei wiederherstellen.",
            )
            return False
    except OSError as exc:
        col.error(name, None, f"Datei nicht lesbar ({unreadable_reason(exc)})")
        return False
    col.error(name, None, "ist keine lesbare Datei (Verknüpfung ins Leere oder Sonderdatei)")
    return False


MAX_MOJIBAKE_LINES = 5


def _read_file(path: Path, name: str, col: _Collector) -> str | None:
    """The text of one file, with garbled umlauts reported line by line (they still parse)."""
    try:
        text = read_text(path)
        col.saved[name] = path.stat().st_mtime_ns
    except YamlError as exc:
        col.error(name, exc.line, exc.message)
        return None
    except OSError as exc:
        col.error(name, None, f"Datei nicht lesbar ({unreadable_reason(exc)})")
        return None
    garbled = find_mojibake(text)
    lines = sorted({m.line for m in garbled})
    for line in lines[:MAX_MOJIBAKE_LINES]:
        found = ", ".join(f"»{m.garbled}« statt »{m.meant}«" for m in garbled if m.line == line)
        col.error(
            name,
            line,
            f"Umlaute falsch gespeichert: {found}. Die Datei wurde mit einer falschen Codierung"
            " geöffnet und wieder gespeichert. Lösung: die Stellen korrigieren (Suchen und"
            f" Ersetzen) und künftig {SAVE_AS_UTF8}",
        )
    if len(lines) > MAX_MOJIBAKE_LINES:
        col.error(
            name,
            lines[MAX_MOJIBAKE_LINES],
            f"Umlaute falsch gespeichert auch in {len(lines) - MAX_MOJIBAKE_LINES} weiteren"
            " Zeilen (hier die nächste).",
        )
    return text


def _read_sections(name: str, data: Any, col: _Collector) -> None:
    if data is None:
        col.warn(name, None, "Datei ist leer")
        return
    if not isinstance(data, LineDict):
        col.error(
            name,
            getattr(data, "line", 1),
            f"oberste Ebene muss Abschnitte enthalten ({', '.join(SECTIONS)})",
        )
        return
    for section, value in data.items():
        line = data.key_lines[section]
        if section not in SECTIONS:
            col.error(name, line, _unknown_section(section))
            continue
        schema, kind = SECTIONS[section]
        if section == "organisation":
            if not isinstance(value, LineDict):
                col.error(name, line, "Abschnitt 'organisation' muss Felder enthalten")
                continue
            if _check_fields(name, "Abschnitt 'organisation'", value, schema, col):
                col.organisations.append((name, value))
            continue
        if not isinstance(value, LineList):
            col.error(name, line, f"Abschnitt '{section}' muss eine Liste sein (Einträge mit '- ')")
            continue
        for item, item_line in zip(value, value.item_lines, strict=True):
            if not isinstance(item, LineDict):
                col.error(
                    name,
                    item_line,
                    f"Eintrag in '{section}' muss Felder haben. Lösung: »- id: …« und darunter"
                    " die Felder, eingerückt wie 'id'.",
                )
                continue
            ident = item.get("id")
            what = f"Eintrag '{ident}'" if isinstance(ident, str) else "Eintrag ohne id"
            if not _check_fields(name, what, item, schema, col):
                continue
            if kind is None:
                col.topics.append((name, item))
            else:
                col.items.append((name, kind, item))


def _unknown_section(section: str) -> str:
    message = f"unbekannter Abschnitt '{section}'{_suggest(section, SECTIONS)}"
    message += f" (erlaubt: {', '.join(SECTIONS)})"
    if any(section in schema for schema, _ in SECTIONS.values()):
        message += (
            f" – '{section}' ist auch ein Feld; steht die Zeile zu weit links? Felder werden"
            " so weit eingerückt wie das 'id' ihres Eintrags"
        )
    return message


def _check_fields(name: str, what: str, item: LineDict, schema: Schema, col: _Collector) -> bool:
    ok = True
    for key, value in item.items():
        if key not in schema:
            col.error(name, item.key_lines[key], f"{what}: {_unknown_field(key, schema)}")
            ok = False
            continue
        check, required = schema[key]
        problem = check(value)
        if problem is None and required and isinstance(value, list) and not value:
            problem = "darf nicht leer sein"
        base = key.removesuffix(ENGLISH_SUFFIX)  # an English field has its German one's limit
        if problem is None and not (schema is TOPIC and base == "titel"):  # topics: 30, below
            problem = _too_long(base, value)
            if problem:
                col.error(name, item.key_lines[key], f"{what}: Feld '{key}' {problem}")
                ok = False
                continue
        if problem:
            hint = _type_hint(key, value, check, required)
            col.error(name, item.key_lines[key], f"{what}: Feld '{key}' {problem}. Lösung: {hint}.")
            ok = False
    for key, (_, required) in schema.items():
        if required and key not in item:
            col.error(name, item.line, f"{what}: Pflichtfeld '{key}' fehlt")
            ok = False
    for key in item:
        german = key.removesuffix(ENGLISH_SUFFIX)
        required = german in schema and schema[german][1]  # a missing one is reported above
        if key != german and key in schema and german not in item and not required:
            col.error(
                name,
                item.key_lines[key],
                f"{what}: Feld '{key}' ohne '{german}'. Lösung: zuerst den deutschen Text in"
                f" '{german}' eintragen – '{key}' ist seine englische Übersetzung.",
            )
            ok = False
    return ok


def _too_long(key: str, value: Any) -> str | None:
    """Length limits (``MAX_CHARS``): a card fits one message, a title a button."""
    limit = MAX_CHARS.get(key)
    if limit is not None and isinstance(value, str) and len(value) > limit:
        return (
            f"ist zu lang ({len(value)} Zeichen, höchstens {limit}). Lösung: kürzen – eine "
            "Antwortkarte muss in eine Telegram-Nachricht passen, Titel stehen auf Knöpfen."
        )
    if isinstance(value, list):
        item_limit = MAX_ITEM_CHARS_BY_KEY.get(key, MAX_ITEM_CHARS)
        for number, item in enumerate(value, start=1):
            if isinstance(item, str) and len(item) > item_limit:
                return (
                    f"hat ein zu langes Element {number} ({len(item)} Zeichen, höchstens "
                    f"{item_limit}). Lösung: kürzen oder aufteilen."
                )
    return None


def _check_card_sizes(col: _Collector, entries: dict[str, Entry], places: Places) -> None:
    """Each card with all it shows (its contacts' details too) must fit one message."""
    for entry in entries.values():
        contacts = [entries[c] for c in entry.contacts if c in entries]
        own = (entry.title, entry.answer, entry.target_group, entry.deadline, entry.web)
        shown = [*own, *(c.title for c in contacts)]
        for contact in [entry] if entry.kind == "contact" else contacts[:3]:
            details = (contact.web, contact.email, contact.phone, contact.address)
            shown.extend(details if any(details) else (contact.note,))
        size = sum(len(text) for text in shown if text) + CARD_FRAME
        if size > MAX_CARD:
            col.error(
                *places[entry.id],
                f"Eintrag '{entry.id}': die Antwortkarte wird mit etwa {size} Zeichen zu lang für "
                f"eine Telegram-Nachricht (höchstens {MAX_CARD}). Lösung: 'antwort' kürzen oder "
                "weniger Ansprechstellen unter 'zustaendig' nennen.",
            )


def _unknown_field(key: str, schema: Schema) -> str:
    suggestion = _suggest(key, schema)
    if suggestion:
        return f"unbekanntes Feld '{key}'{suggestion}"
    if key in SECTIONS:
        where = "Eintrags" if "id" in schema else "Abschnitts"
        return (
            f"unbekanntes Feld '{key}' – '{key}' ist ein Abschnitt und gehört ganz nach links"
            f" (ohne Einrückung); ist die Zeile zu weit eingerückt, gilt sie als Feld des {where}"
        )
    return f"unbekanntes Feld '{key}' (erlaubt: {', '.join(schema)})"


def _suggest(word: str, known: Iterable[str], titles: dict[str, str] | None = None) -> str:
    """' (meinten Sie 'x'?)' for a close id, or for the id whose title was written instead."""
    from rapidfuzz import fuzz, process
    from rapidfuzz.distance import Levenshtein

    folded = fold_umlauts(word)
    for ident, title in (titles or {}).items():
        if folded == fold_umlauts(title):
            return f" (meinten Sie '{ident}'?)"
    best = process.extractOne(
        folded,
        {k: fold_umlauts(k) for k in known},
        scorer=Levenshtein.normalized_similarity,
        processor=None,
        score_cutoff=0.6,
    )
    if best is None and titles and len(folded) >= 6:
        # Part of a title ("Beratungsstelle Vereinbarkeit" for "Beratungsstelle Vereinbarkeit
        # (Bündnis BerufLeben)"): every word written appears in the title.
        best = process.extractOne(
            _words_only(folded),
            {k: _words_only(fold_umlauts(t)) for k, t in titles.items()},
            scorer=fuzz.token_set_ratio,
            processor=None,
            score_cutoff=90,
        )
    return f" (meinten Sie '{best[2]}'?)" if best else ""


def _words_only(text: str) -> str:
    return " ".join(re.findall(r"\w+", text))


def fold_umlauts(text: str) -> str:
    """'In Prüfung' -> 'in pruefung': how ids spell what admins write naturally."""
    folded = " ".join(text.casefold().split())
    for umlaut, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        folded = folded.replace(umlaut, spelled)
    return folded


def status_key(value: str) -> str | None:
    """The status key for its key, its umlaut spelling or its label ('verfügbar', 'In Prüfung')."""
    folded = fold_umlauts(value)
    for key, label in STATUS_LABELS.items():
        if folded in (key, fold_umlauts(label)):
            return key
    return None


def _assemble(directory: Path, col: _Collector, version: str) -> KnowledgeBase | None:
    """Cross-file checks, in the order an admin reads them: organisation, topics, entries,
    references, shared keywords; then the organisation that needs the entries."""
    _check_single_organisation(directory, col)
    topics = _build_topics(col)
    entries, places, by_ref = _build_entries(col)
    _check_references(col, topics, entries, places, by_ref)
    _check_card_sizes(col, entries, places)
    _warn_shared_synonyms(col, entries, places)
    if not col.organisations:
        return None
    organisation = _build_organisation(col, entries)
    if not entries:
        col.error(_display(directory), None, "die Wissensbasis enthält keine Einträge")
    warnings = tuple(p for p in col.problems if p.severity == "warnung")
    untranslated = tuple(_untranslated(col))
    return KnowledgeBase(
        directory, organisation, topics, entries, version, warnings, by_ref, untranslated
    )


_ITEM_SCHEMAS: dict[Kind, Schema] = {
    "contact": CONTACT,
    "measure": MEASURE,
    "counselling": COUNSELLING,
}


def _untranslated(col: _Collector) -> Iterator[Problem]:
    """One warning per item with German text but no English twin, and for answers copied
    unchanged into ``antwort_en``. Kept apart from the load's problems: ``check`` shows them."""
    items = [
        (name, "Abschnitt 'organisation'", ORGANISATION, raw) for name, raw in col.organisations
    ]
    items += [(name, f"Thema '{raw['id']}'", TOPIC, raw) for name, raw in col.topics]
    items += [
        (name, f"Eintrag '{raw['id']}'", _ITEM_SCHEMAS[kind], raw) for name, kind, raw in col.items
    ]
    for name, what, schema, raw in items:
        twins = [key for key in schema if key + ENGLISH_SUFFIX in schema]  # titel, antwort, …
        missing = [
            key + ENGLISH_SUFFIX for key in twins if key in raw and key + ENGLISH_SUFFIX not in raw
        ]
        # Fields a card shows, then fields only the search reads: each says what is lost.
        for search_only, consequence in (
            (False, "wer auf Englisch fragt, sieht hier den deutschen Text"),
            (True, "englische Fragen findet die Suche hier nur über Titel und Antwort"),
        ):
            keys = [key for key in missing if (key in _SEARCHABLE_EN) == search_only]
            if keys:
                fields = ", ".join(f"'{key}'" for key in keys)
                yield Problem(
                    name,
                    raw.line,
                    f"{what}: englische Übersetzung fehlt ({fields}) – {consequence}",
                    "warnung",
                )
        for key in twins:
            english = raw.get(key + ENGLISH_SUFFIX)
            german = raw.get(key)
            # Names ("Amt 50", "Eltern-Kind-Tag") may rightly read the same; sentences may not.
            if (
                isinstance(english, str)
                and isinstance(german, str)
                and english.strip() == german.strip()
                and len(german.split()) > 3
            ):
                yield Problem(
                    name,
                    raw.key_lines[key + ENGLISH_SUFFIX],
                    f"{what}: Feld '{key}{ENGLISH_SUFFIX}' ist wortgleich mit '{key}' – noch"
                    " nicht übersetzt?",
                    "warnung",
                )


def _check_single_organisation(directory: Path, col: _Collector) -> None:
    if not col.organisations:
        col.error(_display(directory), None, "Abschnitt 'organisation' fehlt")
    for name, org in col.organisations[1:]:
        col.error(name, org.line, "Abschnitt 'organisation' darf nur einmal vorkommen")


Place = tuple[str, int]  # file, line
Places = dict[str, Place]


def _blame(col: _Collector, earlier: Place, later: Place) -> tuple[Place, Place]:
    """(blamed, other) for a value used twice: blame the place in the file saved last.

    Files are read in alphabetical order, so "the second one" is often an untouched file;
    the file saved last is where the admin just typed the duplicate.
    """
    if earlier[0] != later[0] and col.saved.get(earlier[0], 0) > col.saved.get(later[0], 0):
        return earlier, later
    return later, earlier


def _where(other: Place, earlier: Place) -> str:
    word = "zuerst" if other == earlier else "auch"
    return f"{word} in {other[0]}, Zeile {other[1]}"


def _bad_id(what: str, ident: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", fold_umlauts(ident)).strip("-")[:40].strip("-")
    hint = f" Lösung: z. B. '{slug}'." if slug and ID_PATTERN.match(slug) else ""
    return f"{what}: id darf nur a-z, 0-9 und '-' enthalten (höchstens 40 Zeichen).{hint}"


def _build_topics(col: _Collector) -> dict[str, Topic]:
    topics: dict[str, Topic] = {}
    places: Places = {}
    for name, raw in col.topics:
        tid = raw["id"]
        place = (name, raw.key_lines["id"])
        if not ID_PATTERN.match(tid):
            col.error(*place, _bad_id(f"Thema '{tid}'", tid))
        if tid in topics:
            blamed, other = _blame(col, places[tid], place)
            col.error(
                *blamed,
                f"Thema '{tid}': id doppelt vergeben ({_where(other, places[tid])}). Lösung:"
                " einem der beiden Themen eine andere id geben oder eines löschen.",
            )
            continue
        if len(raw["titel"]) > MAX_TOPIC_TITLE:
            col.error(
                name,
                raw.key_lines["titel"],
                f"Thema '{tid}': Titel zu lang "
                f"({len(raw['titel'])} Zeichen, höchstens {MAX_TOPIC_TITLE})",
            )
        title_en = _stripped(raw.get("titel_en"))
        if title_en is not None and len(title_en) > MAX_TOPIC_TITLE:
            col.error(
                name,
                raw.key_lines["titel_en"],
                f"Thema '{tid}': englischer Titel zu lang "
                f"({len(title_en)} Zeichen, höchstens {MAX_TOPIC_TITLE})",
            )
        topics[tid] = Topic(
            tid,
            raw["titel"].strip(),
            raw.get("nummer"),
            raw.get("beschreibung"),
            raw.get("hinweis"),
            title_en,
            _stripped(raw.get("beschreibung_en")),
            _stripped(raw.get("hinweis_en")),
        )
        places[tid] = place
    return topics


def _build_entries(col: _Collector) -> tuple[dict[str, Entry], Places, dict[str, Entry]]:
    """Entries by id, where each id stands (file, line), and measures by ref."""
    entries: dict[str, Entry] = {}
    places: Places = {}
    by_ref: dict[str, Entry] = {}
    ref_places: Places = {}
    for name, kind, raw in col.items:
        entry = _entry(name, kind, raw)
        what = f"Eintrag '{entry.id}'"
        place = (name, raw.key_lines["id"])
        if not ID_PATTERN.match(entry.id):
            col.error(*place, _bad_id(what, entry.id))
        if entry.id in entries:
            blamed, other = _blame(col, places[entry.id], place)
            col.error(
                *blamed,
                f"{what}: id doppelt vergeben ({_where(other, places[entry.id])}). Lösung:"
                " hier eine andere id wählen oder einen der beiden Einträge löschen.",
            )
            continue
        _check_ref(col, name, raw, entry, by_ref, ref_places)
        if entry.status is not None:
            entry = _with_status_key(col, name, raw, entry)
        entries[entry.id] = entry
        places[entry.id] = place
    return entries, places, by_ref


def _with_status_key(col: _Collector, name: str, raw: LineDict, entry: Entry) -> Entry:
    """Accept 'verfügbar' and 'In Prüfung' for the keys; suggest a key for typos."""
    key = status_key(entry.status or "")
    if key is not None:
        return replace(entry, status=key)
    labels = {k: label for k, label in STATUS_LABELS.items() if fold_umlauts(label) != k}
    col.error(
        name,
        raw.key_lines["status"],
        f"Eintrag '{entry.id}': status '{entry.status}' unbekannt"
        f"{_suggest(entry.status or '', STATUS_LABELS, labels)}"
        f" (erlaubt: {', '.join(STATUS_LABELS)})",
    )
    return entry


def _check_ref(
    col: _Collector,
    name: str,
    raw: LineDict,
    entry: Entry,
    by_ref: dict[str, Entry],
    ref_places: Places,
) -> None:
    if entry.ref is None:
        return
    what = f"Eintrag '{entry.id}'"
    place = (name, raw.key_lines["ref"])
    if not REF_PATTERN.match(entry.ref):
        col.error(
            *place,
            f"{what}: ref '{entry.ref}' hat nicht die Form '1.2.3'. Lösung: die Nummer der"
            ' Maßnahme aus der Quelle in Anführungszeichen, z. B. »ref: "4.2.1"«.',
        )
    elif entry.ref in by_ref:
        first = ref_places[entry.ref]
        blamed, other = _blame(col, first, place)
        here, there = entry.id, by_ref[entry.ref].id
        if blamed is first:
            here, there = there, here
        col.error(
            *blamed,
            f"Eintrag '{here}': ref '{entry.ref}' doppelt (auch bei '{there}' in {other[0]},"
            f" Zeile {other[1]}). Lösung: die Nummer mit der Quelle vergleichen; jede Maßnahme"
            " hat ihre eigene.",
        )
    else:
        by_ref[entry.ref] = entry
        ref_places[entry.ref] = place


def _check_references(
    col: _Collector,
    topics: dict[str, Topic],
    entries: dict[str, Entry],
    places: Places,
    by_ref: dict[str, Entry],
) -> None:
    """Topics, contacts and measures that an entry names must exist."""
    topic_titles = {t.id: t.title for t in topics.values()}
    contact_names = {e.id: e.title for e in entries.values() if e.kind == "contact"}
    for name, _kind, raw in col.items:
        entry = entries.get(raw["id"])
        if entry is None or places[entry.id] != (name, raw.key_lines["id"]):
            continue  # a duplicate, already reported
        what = f"Eintrag '{entry.id}'"
        if entry.topic is not None and entry.topic not in topics:
            col.error(
                name,
                raw.key_lines["thema"],
                f"{what}: unbekanntes Thema '{entry.topic}'"
                f"{_suggest(entry.topic, topics, topic_titles) or _unread(col)}",
            )
        for cid in entry.contacts:
            target = entries.get(cid)
            if target is None or target.kind != "contact":
                col.error(
                    name,
                    raw.key_lines["zustaendig"],
                    f"{what}: unbekannter Kontakt '{cid}' in 'zustaendig'"
                    f"{_suggest(cid, contact_names, contact_names) or _unread(col)}",
                )
        for ref in entry.related_refs:
            if ref not in by_ref:
                named = entries.get(ref)
                hint = (
                    f" (meinten Sie '{named.ref}'? In 'massnahmen' stehen refs, nicht ids)"
                    if named is not None and named.ref
                    else _unread(col)
                )
                col.error(
                    name,
                    raw.key_lines["massnahmen"],
                    f"{what}: unbekannte Maßnahme '{ref}' in 'massnahmen'{hint}",
                )


def _unread(col: _Collector) -> str:
    """Why a reference may be unknown: the file that defines it could not be read."""
    if not col.unreadable:
        return ""
    files = ", ".join(Path(name).name for name in col.unreadable)
    return f" – steht vielleicht in {files}; die Datei wird wegen des Fehlers dort nicht gelesen"


def _build_organisation(col: _Collector, entries: dict[str, Entry]) -> Organisation:
    org_file, org = col.organisations[0]
    counselling = org["beratung"]
    target = entries.get(counselling)
    if target is None or target.kind != "contact":
        contact_names = {e.id: e.title for e in entries.values() if e.kind == "contact"}
        col.error(
            org_file,
            org.key_lines["beratung"],
            f"organisation: 'beratung' verweist auf unbekannten Kontakt '{counselling}'"
            f"{_suggest(counselling, contact_names, contact_names)}",
        )
    return Organisation(
        org["name"].strip(),
        counselling,
        org["quelle"].strip(),
        org.get("stand"),
        org.get("begruessung"),
        _stripped(org.get("name_en")),
        _stripped(org.get("begruessung_en")),
        _stripped(org.get("quelle_en")),
    )


def _stripped(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) else None


def _entry(name: str, kind: Kind, raw: LineDict) -> Entry:
    def text(key: str) -> str | None:
        value = raw.get(key)
        return value.strip() if isinstance(value, str) else None

    def texts(key: str) -> tuple[str, ...]:
        return tuple(v.strip() for v in raw.get(key) or ())

    title = raw["name"] if kind == "contact" else raw["titel"]
    return Entry(
        id=raw["id"].strip(),
        kind=kind,
        title=title.strip(),
        answer=raw["antwort"].strip(),
        ref=text("ref"),
        topic=text("thema"),
        target_group=text("zielgruppe"),
        status=text("status"),
        deadline=text("umsetzung_bis"),
        contacts=texts("zustaendig"),
        synonyms=texts("stichworte"),
        examples=texts("beispielfragen"),
        related_refs=texts("massnahmen"),
        web=text("web"),
        email=text("email"),
        phone=text("telefon"),
        address=text("adresse"),
        note=text("hinweis"),
        source=text("quelle"),
        file=name,
        line=raw.line,
        title_en=text("name_en" if kind == "contact" else "titel_en"),
        answer_en=text("antwort_en"),
        target_group_en=text("zielgruppe_en"),
        note_en=text("hinweis_en"),
        source_en=text("quelle_en"),
        synonyms_en=texts("stichworte_en"),
        examples_en=texts("beispielfragen_en"),
    )


def _warn_shared_synonyms(col: _Collector, entries: dict[str, Entry], places: Places) -> None:
    owners: dict[str, list[str]] = {}
    for entry in entries.values():
        for word in {s.casefold() for s in entry.synonyms}:
            owners.setdefault(word, []).append(entry.id)
    for word, ids in sorted(owners.items()):
        if len(ids) > 1:
            name, line = places[ids[0]]
            col.warn(
                name, line, f"Stichwort '{word}' steht bei mehreren Einträgen: {', '.join(ids)}"
            )
