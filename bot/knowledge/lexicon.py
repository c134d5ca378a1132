"""The search's language knowledge, read from YAML that admins maintain.

Two files feed one :class:`Lexicon`: ``knowledge/sprache/de.yaml`` holds what is true of the
language (stop words, request words, abbreviations, English terms); ``<kb>/suche.yaml`` holds
what is true of one organisation (subjects it has no offer for, with a redirect; job titles that
mean "Führungskraft"). Words are stored folded (``fold``), so admins may write them with or
without umlauts. The loader reports German file:line problems like the knowledge base's.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot.knowledge.schema import SEARCH_FILE, Problem
from bot.knowledge.yamlsafe import LineDict, LineList, YamlError, read_yaml, unreadable_reason

LANGUAGE_DIR = "sprache"
LANGUAGE_FILE = "de.yaml"

_LANGUAGE_KEYS = {
    "sprache": "Sprachkürzel (de)",
    "stoppwoerter": "Füllwörter, durch Leerzeichen getrennt",
    "fuellwoerter": "Wörter, die fast jede Frage enthält",
    "anliegenwoerter": "Wörter für das Anliegen (beantragen, melden …)",
    "abkuerzungen": "Abkürzung: ausgeschriebene Wörter",
    "englisch": "englisches Wort oder Wendung: deutsche Wörter",
    "gespraech": "Wendungen für Smalltalk und die Bitte um einen Menschen, je Art eine Liste",
    "englische_merkwoerter": "englische Wörter, an denen eine englische Frage zu erkennen ist",
}
_ORG_KEYS = {
    "themenfremd": "Liste von Themen ohne Angebot (thema, woerter, hinweis)",
    "fehlende_themen": "Vereinbarkeitsthemen ohne Angebot in dieser Wissensbasis",
    "fuehrungstitel": "Berufsbezeichnungen, die Führungskraft meinen",
    "mundart": "regionales Wort oder Wendung: hochdeutsche Wörter",
}
_OFF_TOPIC_KEYS = ("thema", "woerter", "hinweis")
_OFF_TOPIC_OPTIONAL = ("hinweis_en",)
_WORD = re.compile(r"^[a-z0-9][a-z0-9'-]*$")
TALK = "gespraech"
BETWEEN = "zwischenwoerter"
PEOPLE = "menschwoerter"
CONTACT = "kontaktwoerter"
MACHINES = "botwoerter"
TALK_WORD_LISTS = (BETWEEN, PEOPLE, CONTACT, MACHINES)
"""The word lists of ``gespraech`` (space-separated words, not phrases)."""
TALK_KINDS = {
    "gruss": "greeting",
    "dank": "thanks",
    "abschied": "bye",
    "wer": "who",
    "befinden": "howareyou",
    "ja": "yes",
    "nein": "no",
    "mensch": "person",
}
"""The lists of ``gespraech`` and the kind of message each names (bot/chat/smalltalk.py)."""
PERSON = "person"
_TALK_WORD = re.compile(r"[a-z]+")
_RUN = re.compile(r"([a-z])\1+")
MAX_REDIRECT = 300


_UMLAUTS = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _suggest(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" – meinten Sie '{close[0]}'?" if close else ""


def fold_word(text: str) -> str:
    """The folding of bot.search.textnorm.fold, repeated here so the knowledge room stays below
    the search room; tests/test_lexicon.py keeps the two equal."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.translate(_UMLAUTS)
    return text.replace("ae", "a").replace("oe", "o").replace("ue", "u")


@dataclass(frozen=True, slots=True)
class OffTopic:
    """A subject no offer covers, and where to turn instead."""

    subject: str
    words: frozenset[str]
    redirect: str
    redirect_en: str | None = None
    """The same hint in English, for English chats (``hinweis_en``)."""


def talk_words(folded: str) -> tuple[str, ...]:
    """The words of folded text as small talk compares them: letters only, each run of one
    letter counted once, so "hallooo", "halloo" and "hallo" are alike, and so are "tschüs" and
    "tschüss". Phrases and messages both pass through here."""
    return tuple(_RUN.sub(r"\1", w) for w in _TALK_WORD.findall(folded))


@dataclass(frozen=True, slots=True)
class Talk:
    """The ``gespraech`` section: messages the bot answers without searching."""

    phrases: Mapping[tuple[str, ...], str] = field(default_factory=lambda: MappingProxyType({}))
    """Small-talk phrase (``talk_words``) -> its kind ("greeting", "thanks", …)."""
    person: tuple[tuple[str, ...], ...] = ()
    """Phrases asking for a human (``mensch``); their words may come in any order."""
    between: frozenset[str] = frozenset()
    """Words that change nothing around the phrases ("und", "auch"), as ``talk_words``."""
    person_words: frozenset[str] = frozenset()
    """Every word of the ``person`` phrases and of the three lists below: a message with none
    of them asks for no one."""
    people: frozenset[str] = frozenset()
    """``menschwoerter``: who one may want to reach ("mensch", "jemand", "beraterin", "human")."""
    contact: frozenset[str] = frozenset()
    """``kontaktwoerter``: how ("sprechen", "zurückrufen", "gespräch", "talk", "call")."""
    machines: frozenset[str] = frozenset()
    """``botwoerter``: what one does not want to talk to ("bot", "computer", "ki", "machine")."""
    by_initial: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    """Every word of the section, grouped by its first letter: what a typo may have meant
    (bot/chat/smalltalk.py ``spelled``)."""

    longest: int = field(init=False, default=0)
    """Words in the longest phrase: counted once, not at every message (hundreds of phrases)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "longest", max((len(p) for p in self.phrases), default=0))


@dataclass(frozen=True, slots=True)
class Lexicon:
    stop_words: frozenset[str] = frozenset()
    filler_words: frozenset[str] = frozenset()
    request_words: frozenset[str] = frozenset()
    expansions: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Single words (abbreviations, English words) -> German words."""
    phrases: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Multi-word English phrases -> German words."""
    off_topic: tuple[OffTopic, ...] = ()
    missing_subjects: frozenset[str] = frozenset()
    leader_titles: frozenset[str] = frozenset()
    regional_words: frozenset[str] = frozenset()
    """Single words of the organisation's ``mundart`` list (folded), for ``check``'s clash test."""
    talk: Talk = field(default_factory=Talk)
    """Small talk and requests for a person (``gespraech``), bot/chat/smalltalk.py."""
    english_markers: frozenset[str] = frozenset()
    """Words only English has (``englische_merkwoerter``): a German chat that gets an English
    question offers English replies (bot/chat/language.py ``looks_english``)."""
    untranslated: tuple[Problem, ...] = field(default=(), compare=False)
    """Warnings about off-topic hints without ``hinweis_en``; shown by ``check``, never
    blocking a load (like ``KnowledgeBase.untranslated``)."""

    def standard_reading(self, text: str) -> str:
        """The text with the region's single words read as standard German ("Jilt dat och för
        Beamte?" -> "jilt das auch fur beamte"), folded; the text itself when none occurs.
        For readers other than the search, which expands them word by word anyway."""
        words = _READING.findall(fold_word(text))
        if self.regional_words.isdisjoint(words):
            return text
        return " ".join(self.expansions[w] if w in self.regional_words else w for w in words)

    def redirect_for(self, word: str) -> OffTopic | None:
        for group in self.off_topic:
            if word in group.words:
                return group
        return None

    @property
    def off_topic_words(self) -> frozenset[str]:
        return frozenset(w for group in self.off_topic for w in group.words)


def _bundled_language() -> Path:
    """``bot/bundled/sprache/de.yaml`` in an installed wheel, ``knowledge/sprache/de.yaml`` in a
    checkout (the same resolution as bot.config.BUNDLED_KNOWLEDGE)."""
    packaged = Path(__file__).resolve().parents[1] / "bundled"
    root = packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "knowledge"
    return root / LANGUAGE_DIR / LANGUAGE_FILE


BUNDLED_LANGUAGE = _bundled_language()


def language_file(kb_dir: Path) -> Path:
    """The language file beside a knowledge base (``<kb>/../sprache/de.yaml``) if there is
    one, else the bundled one: a knowledge base copied elsewhere keeps its language."""
    beside = Path(kb_dir).parent / LANGUAGE_DIR / LANGUAGE_FILE
    return beside if beside.exists() else BUNDLED_LANGUAGE


def load_lexicon(
    kb_dir: Path, *, language: Path | None = None
) -> tuple[Lexicon | None, list[Problem]]:
    """Read the language file and the organisation's search file; both are optional only in
    the sense that a missing organisation file means "nothing organisation-specific"."""
    problems: list[Problem] = []
    language = language or language_file(kb_dir)
    lang = _read(language, _LANGUAGE_KEYS, problems, required=True)
    org = _read(Path(kb_dir) / SEARCH_FILE, _ORG_KEYS, problems, required=False)
    if lang is None:
        return None, problems
    lang_name, org_name = _display(language), _display(Path(kb_dir) / SEARCH_FILE)
    expansions: dict[str, str] = {}
    phrases: dict[str, str] = {}
    for key in ("abkuerzungen", "englisch"):
        for raw_key, raw_value in _mapping(lang, key, lang_name, problems).items():
            source = " ".join(_words(str(raw_key)))
            target = " ".join(_words(str(raw_value)))
            if not source or not target:
                problems.append(Problem(lang_name, _line(lang, key), f"{key}: leerer Eintrag"))
                continue
            (phrases if " " in source else expansions)[source] = target
    regional: set[str] = set()
    # The region's own words ("Pänz", "Kernzick", "gibbet") read as standard German; they
    # belong to the organisation, so its file may also override a language-wide entry.
    for raw_key, raw_value in _mapping(org or LineDict(), "mundart", org_name, problems).items():
        source = " ".join(_words(str(raw_key)))
        target = " ".join(_words(str(raw_value)))
        if source == target:
            continue  # already standard German: nothing to read differently
        if not source or not target:
            problems.append(
                Problem(org_name, _line(org or LineDict(), "mundart"), "mundart: leerer Eintrag")
            )
            continue
        if " " not in source:
            regional.add(source)
        (phrases if " " in source else expansions)[source] = target
    untranslated: list[Problem] = []
    off_topic = _off_topic(org or LineDict(), org_name, problems, untranslated)
    talk = _talk_of(lang, language, lang_name, problems)
    lexicon = Lexicon(
        stop_words=_word_set(lang, "stoppwoerter", lang_name, problems),
        filler_words=_word_set(lang, "fuellwoerter", lang_name, problems),
        request_words=_word_set(lang, "anliegenwoerter", lang_name, problems),
        expansions=MappingProxyType(expansions),
        phrases=MappingProxyType(phrases),
        off_topic=off_topic,
        missing_subjects=_word_set(org or LineDict(), "fehlende_themen", org_name, problems),
        leader_titles=_word_set(org or LineDict(), "fuehrungstitel", org_name, problems),
        regional_words=frozenset(regional),
        talk=talk,
        english_markers=_word_set(lang, "englische_merkwoerter", lang_name, problems),
        untranslated=tuple(untranslated),
    )
    _warn_overlaps(lexicon, org_name, problems)
    if any(p.severity == "fehler" for p in problems):
        return None, problems
    return lexicon, problems


def _talk_of(lang: LineDict, language: Path, name: str, problems: list[Problem]) -> Talk:
    """The language file's ``gespraech`` section; without one, the bundled file's, so that a
    language file written before the section existed keeps today's small talk."""
    if TALK in lang or language.resolve() == BUNDLED_LANGUAGE.resolve():
        return _talk(lang, name, problems)
    bundled = _read(BUNDLED_LANGUAGE, _LANGUAGE_KEYS, problems, required=False)
    return _talk(bundled or LineDict(), _display(BUNDLED_LANGUAGE), problems)


def _talk(data: LineDict, name: str, problems: list[Problem]) -> Talk:
    section = data.get(TALK)
    if section is None:
        return Talk()
    if not isinstance(section, LineDict):
        problems.append(
            Problem(
                name,
                _line(data, TALK),
                f"{TALK}: erwartet Listen von Wendungen unter {', '.join(TALK_KINDS)}",
            )
        )
        return Talk()
    phrases: dict[tuple[str, ...], str] = {}
    person: list[tuple[str, ...]] = []
    seen: dict[tuple[str, ...], tuple[str, int | None]] = {}
    lists: dict[str, frozenset[str]] = {}
    for raw_key, value in section.items():
        folded = fold_word(str(raw_key).strip())  # "gruß" and "zwischenwörter" are fine too
        key = next((k for k in (*TALK_KINDS, *TALK_WORD_LISTS) if fold_word(k) == folded), folded)
        line = section.key_lines.get(raw_key)
        if key in TALK_WORD_LISTS:
            listed = _word_set(section, raw_key, name, problems)
            lists[key] = frozenset(w for word in listed for w in talk_words(word))
            continue
        if key not in TALK_KINDS:
            hint = _suggest(key, [*TALK_KINDS, *TALK_WORD_LISTS])
            problems.append(Problem(name, line, f"{TALK}: unbekannte Art '{raw_key}'{hint}"))
            continue
        if not isinstance(value, LineList):
            problems.append(
                Problem(
                    name,
                    line,
                    f"{TALK}.{key}: erwartet eine Liste, eine Wendung je Zeile („- guten morgen“)",
                )
            )
            continue
        for item, item_line in zip(value, value.item_lines, strict=False):
            where = f"{TALK}.{key}"
            if isinstance(item, bool):
                problems.append(
                    Problem(
                        name,
                        item_line,
                        f"{where}: YAML liest hier einen Ja/Nein-Wert statt eines Wortes – "
                        'Wörter wie yes, no, on, off in Anführungszeichen setzen („- "no"“)',
                    )
                )
                continue
            if not isinstance(item, str):
                problems.append(Problem(name, item_line, f"{where}: erwartet Text"))
                continue
            words = talk_words(fold_word(item))
            if not words:
                problems.append(
                    Problem(name, item_line, f"{where}: „{item}“ enthält keine Buchstaben")
                )
                continue
            if words in seen:
                first_key, first_line = seen[words]
                problems.append(
                    Problem(
                        name,
                        item_line,
                        f"{where}: „{item}“ steht schon unter {first_key}"
                        + (f" (Zeile {first_line})" if first_line else "")
                        + " – eine Zeile streichen",
                        "warnung",
                    )
                )
                continue
            seen[words] = (key, item_line)
            if TALK_KINDS[key] == PERSON:
                person.append(words)
            else:
                phrases[words] = TALK_KINDS[key]
    between = lists.get(BETWEEN, frozenset())
    # Words that change nothing are dropped from messages, so from the phrases too: "danke
    # dir" is "danke" once "dir" is a zwischenwort.
    trimmed: dict[tuple[str, ...], str] = {}
    for words, kind in phrases.items():
        kept = tuple(w for w in words if w not in between)
        trimmed.setdefault(kept or words, kind)
    people = lists.get(PEOPLE, frozenset())
    contact = lists.get(CONTACT, frozenset())
    machines = lists.get(MACHINES, frozenset())
    person_words = frozenset(w for phrase in person for w in phrase) | people | contact | machines
    vocabulary = {w for phrase in trimmed for w in phrase} | person_words | between
    by_initial: dict[str, list[str]] = {}
    for word in sorted(vocabulary):
        by_initial.setdefault(word[0], []).append(word)
    return Talk(
        MappingProxyType(trimmed),
        tuple(person),
        between,
        person_words,
        people,
        contact,
        machines,
        MappingProxyType({k: tuple(v) for k, v in by_initial.items()}),
    )


def _read(
    path: Path, keys: Mapping[str, str], problems: list[Problem], *, required: bool
) -> LineDict | None:
    name = _display(path)
    try:
        exists = path.exists()
    except OSError as exc:  # e.g. a folder without permission: say so instead of raising
        problems.append(Problem(name, None, f"Datei nicht lesbar ({unreadable_reason(exc)})"))
        return None
    if not exists:
        if required:
            problems.append(Problem(name, None, "Sprachdatei der Suche nicht gefunden"))
        return None
    try:
        data = read_yaml(path)
    except YamlError as exc:
        problems.append(Problem(name, exc.line, exc.message))
        return None
    except OSError as exc:
        problems.append(Problem(name, None, f"Datei nicht lesbar ({unreadable_reason(exc)})"))
        return None
    if data is None:
        return LineDict()
    if not isinstance(data, LineDict):
        problems.append(Problem(name, 1, "erwartet Schlüssel wie " + ", ".join(keys)))
        return None
    for key in data:
        if key not in keys:
            hint = _suggest(str(key), keys)
            problems.append(
                Problem(name, data.key_lines.get(key), f"unbekannter Schlüssel '{key}'{hint}")
            )
    return data


def _line(data: LineDict, key: str) -> int | None:
    return data.key_lines.get(key)


_READING = re.compile(r"[^\W_]+")


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s,;]+", fold_word(text)) if w]


def _word_set(data: LineDict, key: str, name: str, problems: list[Problem]) -> frozenset[str]:
    value = data.get(key)
    if value is None:
        return frozenset()
    if isinstance(value, LineList):
        value = " ".join(str(v) for v in value)
    if not isinstance(value, str):
        problems.append(
            Problem(name, _line(data, key), f"{key}: erwartet Wörter, getrennt durch Leerzeichen")
        )
        return frozenset()
    found = _words(value)
    bad = [w for w in found if not _WORD.match(w)]
    if bad:
        problems.append(
            Problem(
                name,
                _line(data, key),
                f"{key}: nur Buchstaben, Ziffern, Bindestrich erlaubt – nicht {', '.join(bad[:5])}",
            )
        )
    return frozenset(w for w in found if _WORD.match(w))


def _mapping(data: LineDict, key: str, name: str, problems: list[Problem]) -> Mapping[Any, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(
            Problem(name, _line(data, key), f"{key}: erwartet Zeilen der Form „wort: wörter“")
        )
        return {}
    return value


def _off_topic(
    data: LineDict, name: str, problems: list[Problem], untranslated: list[Problem]
) -> tuple[OffTopic, ...]:
    raw = data.get("themenfremd")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append(
            Problem(name, _line(data, "themenfremd"), "themenfremd: erwartet eine Liste von Themen")
        )
        return ()
    groups: list[OffTopic] = []
    for item in raw:
        line = getattr(item, "line", None) or _line(data, "themenfremd")
        if not isinstance(item, dict):
            problems.append(
                Problem(name, line, "themenfremd: jedes Thema braucht thema, woerter, hinweis")
            )
            continue
        missing = [k for k in _OFF_TOPIC_KEYS if not item.get(k)]
        unknown = [k for k in item if k not in _OFF_TOPIC_KEYS + _OFF_TOPIC_OPTIONAL]
        if missing or unknown:
            what = "; ".join(
                [f"fehlt: {', '.join(missing)}"] * bool(missing)
                + [f"unbekannt: {', '.join(map(str, unknown))}"] * bool(unknown)
            )
            problems.append(Problem(name, line, f"themenfremd: {what}"))
            continue
        redirect = str(item["hinweis"]).strip()
        if len(redirect) > MAX_REDIRECT:
            problems.append(
                Problem(
                    name,
                    line,
                    f"hinweis zu lang ({len(redirect)} Zeichen, höchstens {MAX_REDIRECT})",
                )
            )
        words = (
            _word_set(item, "woerter", name, problems)
            if isinstance(item, LineDict)
            else frozenset()
        )
        english = str(item.get("hinweis_en") or "").strip() or None
        if english is None:
            untranslated.append(
                Problem(
                    name,
                    line,
                    f"themenfremd '{str(item['thema']).strip()}': englische Übersetzung fehlt"
                    " ('hinweis_en') – wer auf Englisch fragt, sieht hier den deutschen Hinweis",
                    "warnung",
                )
            )
        if english and len(english) > MAX_REDIRECT:
            problems.append(
                Problem(
                    name,
                    line,
                    f"hinweis_en zu lang ({len(english)} Zeichen, höchstens {MAX_REDIRECT})",
                )
            )
        groups.append(OffTopic(str(item["thema"]).strip(), words, redirect, english))
    return tuple(groups)


def regional_clashes(
    lexicon: Lexicon, texts: Mapping[str, Iterable[str]], name: str
) -> list[Problem]:
    """A regional word that the knowledge base itself uses in its standard meaning would be
    read as dialect there too (Kölsch "ühr" folds to "uhr"): one warning per word."""
    if not lexicon.regional_words:
        return []
    found: dict[str, str] = {}
    for entry_id, entry_texts in texts.items():
        for text in entry_texts:
            for word in _WORDS_IN_TEXT.findall(fold_word(text)):
                if word in lexicon.regional_words:
                    found.setdefault(word, entry_id)
    return [
        Problem(
            name,
            None,
            f"mundart: „{word}“ steht auch in der Wissensbasis (Eintrag '{entry_id}') und würde "
            f"dort als „{lexicon.expansions.get(word, '')}“ gelesen – Zeile löschen",
            "warnung",
        )
        for word, entry_id in sorted(found.items())
    ]


_WORDS_IN_TEXT = re.compile(r"[a-z0-9][a-z0-9'-]*")


def _warn_overlaps(lexicon: Lexicon, name: str, problems: list[Problem]) -> None:
    """A word both off-topic and a request/stop word would silently lose one role."""
    clash = sorted(lexicon.off_topic_words & (lexicon.stop_words | lexicon.filler_words))
    if clash:
        problems.append(
            Problem(
                name,
                None,
                "themenfremde Wörter stehen auch in den Füllwörtern: " + ", ".join(clash[:8]),
                "warnung",
            )
        )


def all_words(lexicon: Lexicon) -> Iterable[str]:
    """Every word the lexicon names (for the self-test and reports)."""
    yield from lexicon.stop_words
    yield from lexicon.filler_words
    yield from lexicon.request_words
    yield from lexicon.off_topic_words
