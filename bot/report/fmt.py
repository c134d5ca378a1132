"""German wording and number formatting shared by all report renderers.

Small counts are suppressed here, in one place, so no renderer can forget the staff
council's minimum group size.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from types import MappingProxyType

from bot.log.schema import CONVERSATIONAL

MIN_COUNT = 5
"""Aggregate cells below this are shown as "<5"."""

SUPPRESSED = f"<{MIN_COUNT}"

OUTCOME_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "answered": "beantwortet",
        "ambiguous": "Rückfrage",
        "unknown": "unbeantwortet",
        "smalltalk": "Smalltalk",
        "person": "Mensch gewünscht",
        "failed": "Fehler",
    }
)

OUTCOME_VALUES = OUTCOME_LABELS
"""Outcome values in CSV files: the German words, not the log's internal keys."""

FOLLOWUP_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "contact": "Zuständigkeit",
        "status": "Stand, seit/ab wann",
        "target": "Zielgruppe",
        "more": "mehr dazu",
        "difference": "Unterschied",
    }
)
"""Kinds of follow-ups about the last card, as the team reads them (also CSV values)."""

FOLLOWUP_ASKED: Mapping[str, str] = MappingProxyType(
    {
        "contact": "nach der Zuständigkeit",
        "status": "nach dem Stand (seit/ab wann)",
        "target": "nach der Zielgruppe",
        "more": "nach mehr dazu",
        "difference": "nach dem Unterschied zu einem anderen Angebot",
    }
)
FOLLOWUP_UNSAID: Mapping[str, str] = MappingProxyType(
    {
        "contact": "die Quelle nennt keine",
        "status": "die Quelle nennt keinen Stand und kein Datum",
        "target": "die Quelle nennt die gefragte Gruppe nicht",
        "more": "die Quelle sagt nicht mehr",
        "difference": "der Bot fand kein vergleichbares Angebot",
    }
)

CHANNEL_LABELS: Mapping[str, str] = MappingProxyType(
    {"telegram": "Telegram", "terminal": "Terminal-Chat", "test": "Tests"}
)

RATE_NOTE = (
    "Antwortquote: direkt beantwortet oder über „Meinten Sie …?“ gefunden, "
    "bezogen auf alle Fragen außer Smalltalk."
)
FOLLOWUP_NOTE = (
    "Nachfragen („und wer ist da zuständig?“, „seit wann?“) beziehen sich auf die zuletzt "
    "gezeigte Antwort; sie sind in Fragen, Antwortquote und Lücken nicht mitgezählt."
)
SUPPRESSION_NOTE = (
    f"Zahlen unter {MIN_COUNT} werden als „{SUPPRESSED}“ angezeigt, Quoten erst ab "
    f"{MIN_COUNT} Fragen. Auswertungen zeigen nie, wer gefragt hat."
)


def number(value: int) -> str:
    """1234 -> '1.234'."""
    return f"{value:,}".replace(",", ".")


def count(value: int) -> str:
    """A count as shown in aggregate tables: 0, '<5', or the number."""
    if 0 < value < MIN_COUNT:
        return SUPPRESSED
    return number(value)


def rate(part: int, whole: int) -> str:
    """Percentage, or '–' when the base is too small to show."""
    if whole < MIN_COUNT:
        return "–"
    return f"{round(100 * part / whole)} %"


def answer_rate(answered: int, chosen: int, total: int, smalltalk: int) -> str:
    """``smalltalk``: messages that asked the knowledge base nothing (small talk, requests for a
    person; ``conversational``), not part of the base."""
    return rate(answered + chosen, total - smalltalk)


def conversational(outcomes: Mapping[str, int]) -> int:
    """Small talk and requests for a person, which the answer rate leaves out."""
    return sum(outcomes.get(o, 0) for o in CONVERSATIONAL)


def day(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def week_key(value: date) -> str:
    """ISO week as sortable key, e.g. '2025-W07'."""
    year, week, _ = value.isocalendar()
    return f"{year}-W{week:02d}"


def week_label(key: str) -> str:
    """'2025-W07' -> 'KW 07/2025'."""
    year, week = key.split("-W")
    return f"KW {week}/{year}"


def period(since: date | None, until: date | None) -> str:
    if since and until:
        return f"{day(since)} – {day(until)}"
    if since:
        return f"ab {day(since)}"
    if until:
        return f"bis {day(until)}"
    return "gesamter gespeicherter Zeitraum"


def channel(name: str | None) -> str:
    return "alle Kanäle" if name is None else CHANNEL_LABELS.get(name, name)


def short_day(value: date) -> str:
    return value.strftime("%d.%m.")


def change(before: int, now: int) -> str:
    """'120 → 140'; counts below the minimum stay hidden on both sides."""
    return f"{count(before)} → {count(now)}"
