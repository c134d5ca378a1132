"""The knowledge base as the rest of the bot sees it: immutable topics, entries and their labels.

Kept apart from the validation in ``schema`` so that search, chat and report depend on plain data
types only, never on how the YAML files were read or checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

Kind = Literal["measure", "counselling", "contact"]

STATUS_LABELS = {
    "geplant": "geplant",
    "pruefung": "in Prüfung",
    "umsetzung": "in Umsetzung",
    "verfuegbar": "verfügbar",
}
KIND_LABELS = {"measure": "Maßnahme", "counselling": "Beratungsangebot", "contact": "Kontakt"}
LANGUAGES = ("de", "en")
"""Content languages: German is the source; English fields (``*_en``) translate it."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding of the validation, worded for admins."""

    file: str
    line: int | None
    message: str
    severity: Literal["fehler", "warnung"] = "fehler"

    def __str__(self) -> str:
        where = f"{self.file}, Zeile {self.line}" if self.line else self.file
        prefix = "Warnung: " if self.severity == "warnung" else ""
        return f"{where}: {prefix}{self.message}"


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    title: str
    number: int | None = None
    description: str | None = None
    note: str | None = None
    title_en: str | None = None
    description_en: str | None = None
    note_en: str | None = None

    def in_english(self) -> Topic:
        """The topic as an English reader sees it: English fields where there are any."""
        return replace(
            self,
            title=self.title_en or self.title,
            description=self.description_en or self.description,
            note=self.note_en or self.note,
        )


@dataclass(frozen=True, slots=True)
class Organisation:
    name: str
    counselling: str
    source: str
    as_of: str | None = None
    greeting: str | None = None
    name_en: str | None = None
    greeting_en: str | None = None
    source_en: str | None = None

    def in_english(self) -> Organisation:
        return replace(
            self,
            name=self.name_en or self.name,
            greeting=self.greeting_en or self.greeting,
            source=self.source_en or self.source,
        )


@dataclass(frozen=True, slots=True)
class Entry:
    """A measure, counselling service or contact; everything the answer card needs.

    Contacts are entries of kind ``contact`` rather than a class of their own: the search,
    the cards and the log treat all three kinds alike.
    """

    id: str
    kind: Kind
    title: str
    answer: str
    ref: str | None = None
    topic: str | None = None
    target_group: str | None = None
    status: str | None = None
    deadline: str | None = None
    contacts: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    related_refs: tuple[str, ...] = ()
    web: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    note: str | None = None
    source: str | None = None
    file: str = ""
    line: int = 0
    # English wording (knowledge/README.md, "Englisch"); None where nobody translated it yet.
    title_en: str | None = None
    answer_en: str | None = None
    target_group_en: str | None = None
    note_en: str | None = None
    source_en: str | None = None
    synonyms_en: tuple[str, ...] = ()  # English keywords and example questions: search only,
    examples_en: tuple[str, ...] = ()  # like their German twins, never shown on a card

    @property
    def status_label(self) -> str | None:
        return STATUS_LABELS.get(self.status or "")

    def speaks(self, language: str) -> bool:
        """Whether the card can be shown in ``language``: German always, English once the
        answer is translated (a card with a German answer says so in English)."""
        return language != "en" or self.answer_en is not None

    def in_english(self) -> Entry:
        """The entry as an English reader sees it: English fields where there are any."""
        return replace(
            self,
            title=self.title_en or self.title,
            answer=self.answer_en or self.answer,
            target_group=self.target_group_en or self.target_group,
            note=self.note_en or self.note,
            source=self.source_en or self.source,
        )

    def to_json(self) -> dict[str, Any]:
        """The export shape used by ``python -m bot export --json``: the German fields first
        (a contract, unchanged), then their English twins (None where not translated)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "ref": self.ref,
            "title": self.title,
            "answer": self.answer,
            "topic": self.topic,
            "target_group": self.target_group,
            "status": self.status,
            "deadline": self.deadline,
            "contacts": list(self.contacts),
            "synonyms": list(self.synonyms),
            "examples": list(self.examples),
            "related_refs": list(self.related_refs),
            "web": self.web,
            "email": self.email,
            "phone": self.phone,
            "address": self.address,
            "note": self.note,
            "source": self.source,
            "title_en": self.title_en,
            "answer_en": self.answer_en,
            "target_group_en": self.target_group_en,
            "note_en": self.note_en,
            "source_en": self.source_en,
            "synonyms_en": list(self.synonyms_en),
            "examples_en": list(self.examples_en),
        }


@dataclass(frozen=True)
class KnowledgeBase:
    directory: Path
    organisation: Organisation
    topics: dict[str, Topic]
    entries: dict[str, Entry]
    version: str
    warnings: tuple[Problem, ...] = ()
    by_ref: dict[str, Entry] = field(default_factory=dict)
    untranslated: tuple[Problem, ...] = ()
    """Warnings about missing English fields; shown by ``check``, never blocking a load."""
    _views: dict[str, KnowledgeBase] = field(default_factory=dict, compare=False, repr=False)

    def in_language(self, language: str) -> KnowledgeBase:
        """The same knowledge base as a reader of ``language`` sees it, built once per version.

        Ids, refs, contacts and topics stay the same, so search results (always built on the
        German knowledge base) map onto it by id; only the wording changes.
        """
        if language != "en":
            return self
        view = self._views.get(language)
        if view is None:
            entries = {eid: e.in_english() for eid, e in self.entries.items()}
            view = replace(
                self,
                organisation=self.organisation.in_english(),
                topics={tid: t.in_english() for tid, t in self.topics.items()},
                entries=entries,
                by_ref={ref: entries[e.id] for ref, e in self.by_ref.items()},
                _views={},
            )
            self._views[language] = view  # a race builds the same view twice: harmless
        return view

    @property
    def counselling_contact(self) -> Entry:
        return self.entries[self.organisation.counselling]

    def contacts_of(self, entry: Entry) -> list[Entry]:
        return [self.entries[c] for c in entry.contacts if c in self.entries]

    def in_topic(self, topic_id: str) -> list[Entry]:
        """Entries of a topic for browsing: measures and services first, contacts last."""
        order = {"counselling": 0, "measure": 1, "contact": 2}
        items = [e for e in self.entries.values() if e.topic == topic_id]
        return sorted(items, key=lambda e: (order[e.kind], _ref_key(e.ref), e.title))

    def contacts(self) -> list[Entry]:
        return [e for e in self.entries.values() if e.kind == "contact"]

    def titles(self) -> dict[str, str]:
        """Entry and topic ids to titles, for reports that only store ids."""
        return {
            **{t.id: t.title for t in self.topics.values()},
            **{e.id: e.title for e in self.entries.values()},
        }


def _ref_key(ref: str | None) -> tuple[int, ...]:
    return tuple(int(p) for p in ref.split(".")) if ref else (999,)
