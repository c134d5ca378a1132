"""Validation of a knowledge base folder: YAML files in, a KnowledgeBase or German problems out.

Admins edit these files by hand, so every problem is reported in German with file and line, and
all problems of a folder are collected in one pass instead of stopping at the first. The data
types live in ``bot.knowledge.model`` and are re-exported here for existing imports.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
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
from bot.knowledge.yamlsafe import LineDict, LineList, YamlError, read_yaml

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
    for item in value:
        if not isinstance(item, str) or not item.strip():
            return f"muss eine Liste von Texten sein (Element {item!r})"
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
    }.get(type(value), type(value).__name__)


# field name -> (check, required)
Schema = dict[str, tuple[Check, bool]]

ORGANISATION: Schema = {
    "name": (_text, True),
    "beratung": (_text, True),
    "quelle": (_text, True),
    "stand": (_text, False),
    "begruessung": (_text, False),
}
TOPIC: Schema = {
    "id": (_text, True),
    "titel": (_text, True),
    "nummer": (_int, False),
    "beschreibung": (_text, False),
    "hinweis": (_text, False),
}
_SEARCHABLE: Schema = {
    "stichworte": (_text_list, False),
    "beispielfragen": (_text_list, False),
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
}
COUNSELLING: Schema = {
    **{k: v for k, v in MEASURE.items() if k != "ref"},
    "massnahmen": (_text_list, False),
    "web": (_text, False),
}
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

    def error(self, file: str, line: int | None, message: str) -> None:
        self.problems.append(Problem(file, line, message))

    def warn(self, file: str, line: int | None, message: str) -> None:
        self.problems.append(Problem(file, line, message, "warnung"))


def validate(directory: Path) -> tuple[KnowledgeBase | None, list[Problem]]:
    """Read and check a folder; returns the knowledge base only when there is no error."""
    directory = Path(directory)
    col = _Collector()
    label = _display(directory)
    if not directory.is_dir():
        col.error(label, None, "Ordner der Wissensbasis nicht gefunden")
        return None, col.problems
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if not files:
        col.error(label, None, "keine YAML-Dateien (*.yaml) gefunden")
        return None, col.problems
    if len(files) > MAX_FILES:
        col.error(label, None, f"zu viele YAML-Dateien ({len(files)}, höchstens {MAX_FILES})")
        return None, col.problems
    digest = hashlib.sha256()
    for path in files:
        name = _display(path)
        try:
            data = read_yaml(path)
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        except YamlError as exc:
            col.error(name, exc.line, exc.message)
            continue
        except OSError as exc:
            col.error(name, None, f"Datei nicht lesbar ({exc.strerror})")
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
            col.error(
                name,
                line,
                f"unbekannter Abschnitt '{section}'{_suggest(section, SECTIONS)}"
                f" (erlaubt: {', '.join(SECTIONS)})",
            )
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
                col.error(name, item_line, f"Eintrag in '{section}' muss Felder haben")
                continue
            ident = item.get("id")
            what = f"Eintrag '{ident}'" if isinstance(ident, str) else "Eintrag ohne id"
            if not _check_fields(name, what, item, schema, col):
                continue
            if kind is None:
                col.topics.append((name, item))
            else:
                col.items.append((name, kind, item))


def _check_fields(name: str, what: str, item: LineDict, schema: Schema, col: _Collector) -> bool:
    ok = True
    for key, value in item.items():
        if key not in schema:
            col.error(
                name,
                item.key_lines[key],
                f"{what}: unbekanntes Feld '{key}'{_suggest(key, schema)}",
            )
            ok = False
            continue
        check, required = schema[key]
        problem = check(value)
        if problem is None and required and isinstance(value, list) and not value:
            problem = "darf nicht leer sein"
        if problem:
            col.error(name, item.key_lines[key], f"{what}: Feld '{key}' {problem}")
            ok = False
    for key, (_, required) in schema.items():
        if required and key not in item:
            col.error(name, item.line, f"{what}: Pflichtfeld '{key}' fehlt")
            ok = False
    return ok


def _suggest(word: str, known: Iterable[str]) -> str:
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    best = process.extractOne(
        word, list(known), scorer=Levenshtein.normalized_similarity, score_cutoff=0.6
    )
    return f" (meinten Sie '{best[0]}'?)" if best else ""


def _assemble(directory: Path, col: _Collector, version: str) -> KnowledgeBase | None:
    """Cross-file checks, in the order an admin reads them: organisation, topics, entries,
    references, shared keywords; then the organisation that needs the entries."""
    _check_single_organisation(directory, col)
    topics = _build_topics(col)
    entries, places, by_ref = _build_entries(col)
    _check_references(col, topics, entries, places, by_ref)
    _warn_shared_synonyms(col, entries, places)
    if not col.organisations:
        return None
    organisation = _build_organisation(col, entries)
    if not entries:
        col.error(_display(directory), None, "die Wissensbasis enthält keine Einträge")
    warnings = tuple(p for p in col.problems if p.severity == "warnung")
    return KnowledgeBase(directory, organisation, topics, entries, version, warnings, by_ref)


def _check_single_organisation(directory: Path, col: _Collector) -> None:
    if not col.organisations:
        col.error(_display(directory), None, "Abschnitt 'organisation' fehlt")
    for name, org in col.organisations[1:]:
        col.error(name, org.line, "Abschnitt 'organisation' darf nur einmal vorkommen")


def _build_topics(col: _Collector) -> dict[str, Topic]:
    topics: dict[str, Topic] = {}
    for name, raw in col.topics:
        tid = raw["id"]
        if not ID_PATTERN.match(tid):
            col.error(
                name,
                raw.key_lines["id"],
                f"Thema '{tid}': id darf nur a-z, 0-9 und '-' enthalten (höchstens 40 Zeichen)",
            )
        if tid in topics:
            col.error(name, raw.key_lines["id"], f"Thema '{tid}': id doppelt vergeben")
            continue
        if len(raw["titel"]) > MAX_TOPIC_TITLE:
            col.error(
                name,
                raw.key_lines["titel"],
                f"Thema '{tid}': Titel zu lang "
                f"({len(raw['titel'])} Zeichen, höchstens {MAX_TOPIC_TITLE})",
            )
        topics[tid] = Topic(
            tid,
            raw["titel"].strip(),
            raw.get("nummer"),
            raw.get("beschreibung"),
            raw.get("hinweis"),
        )
    return topics


Places = dict[str, tuple[str, int]]


def _build_entries(col: _Collector) -> tuple[dict[str, Entry], Places, dict[str, Entry]]:
    """Entries by id, where each id stands (file, line), and measures by ref."""
    entries: dict[str, Entry] = {}
    places: Places = {}
    by_ref: dict[str, Entry] = {}
    for name, kind, raw in col.items:
        entry = _entry(name, kind, raw)
        what = f"Eintrag '{entry.id}'"
        id_line = raw.key_lines["id"]
        if not ID_PATTERN.match(entry.id):
            col.error(
                name,
                id_line,
                f"{what}: id darf nur a-z, 0-9 und '-' enthalten (höchstens 40 Zeichen)",
            )
        if entry.id in entries:
            first = places[entry.id]
            col.error(
                name,
                id_line,
                f"{what}: id doppelt vergeben (zuerst in {first[0]}, Zeile {first[1]})",
            )
            continue
        _check_ref(col, name, raw, entry, by_ref)
        if entry.status is not None and entry.status not in STATUS_LABELS:
            col.error(
                name,
                raw.key_lines["status"],
                f"{what}: status '{entry.status}' unbekannt (erlaubt: {', '.join(STATUS_LABELS)})",
            )
        entries[entry.id] = entry
        places[entry.id] = (name, id_line)
    return entries, places, by_ref


def _check_ref(
    col: _Collector, name: str, raw: LineDict, entry: Entry, by_ref: dict[str, Entry]
) -> None:
    if entry.ref is None:
        return
    what = f"Eintrag '{entry.id}'"
    if not REF_PATTERN.match(entry.ref):
        col.error(
            name, raw.key_lines["ref"], f"{what}: ref '{entry.ref}' hat nicht die Form '1.2.3'"
        )
    elif entry.ref in by_ref:
        col.error(
            name,
            raw.key_lines["ref"],
            f"{what}: ref '{entry.ref}' doppelt (auch bei '{by_ref[entry.ref].id}')",
        )
    else:
        by_ref[entry.ref] = entry


def _check_references(
    col: _Collector,
    topics: dict[str, Topic],
    entries: dict[str, Entry],
    places: Places,
    by_ref: dict[str, Entry],
) -> None:
    """Topics, contacts and measures that an entry names must exist."""
    contact_ids = [e.id for e in entries.values() if e.kind == "contact"]
    for name, _kind, raw in col.items:
        entry = entries.get(raw["id"])
        if entry is None or places[entry.id] != (name, raw.key_lines["id"]):
            continue  # a duplicate, already reported
        what = f"Eintrag '{entry.id}'"
        if entry.topic is not None and entry.topic not in topics:
            col.error(
                name,
                raw.key_lines["thema"],
                f"{what}: unbekanntes Thema '{entry.topic}'{_suggest(entry.topic, topics)}",
            )
        for cid in entry.contacts:
            target = entries.get(cid)
            if target is None or target.kind != "contact":
                col.error(
                    name,
                    raw.key_lines["zustaendig"],
                    f"{what}: unbekannter Kontakt '{cid}' in 'zustaendig'"
                    f"{_suggest(cid, contact_ids)}",
                )
        for ref in entry.related_refs:
            if ref not in by_ref:
                col.error(
                    name,
                    raw.key_lines["massnahmen"],
                    f"{what}: unbekannte Maßnahme '{ref}' in 'massnahmen'",
                )


def _build_organisation(col: _Collector, entries: dict[str, Entry]) -> Organisation:
    org_file, org = col.organisations[0]
    counselling = org["beratung"]
    target = entries.get(counselling)
    if target is None or target.kind != "contact":
        col.error(
            org_file,
            org.key_lines["beratung"],
            f"organisation: 'beratung' verweist auf unbekannten Kontakt '{counselling}'",
        )
    return Organisation(
        org["name"].strip(),
        counselling,
        org["quelle"].strip(),
        org.get("stand"),
        org.get("begruessung"),
    )


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
