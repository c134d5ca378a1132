"""Plain-text and CSV renderings of a report, and the short Telegram texts.

Telegram texts are plain (no Markdown/HTML parse mode), so question texts need no escaping
and cannot break the message format.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from bot.log.schema import OUTCOMES
from bot.report import fmt as f
from bot.report.advice import Advice
from bot.report.model import GapItem, ReportModel, WeekCounts

TOP_ITEMS = 10
TELEGRAM_LIMIT = 4000
_TEXTS_PER_GROUP = 5


def render_text(model: ReportModel) -> str:
    return "\n".join(_text_lines(model)) + "\n"


def render_csv(model: ReportModel) -> str:
    """Long format (abschnitt; bezeichnung; titel; kennzahl; wert) so one file holds all
    sections; ``;`` and a BOM make spreadsheet programs in German locale open it directly."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(("abschnitt", "bezeichnung", "titel", "kennzahl", "wert"))
    writer.writerows(_csv_rows(model))
    return buffer.getvalue()


def render_summary(model: ReportModel, days: int) -> str:
    stats = model.stats
    totals = stats.totals
    lines = [f"📊 Statistik der letzten {days} Tage", ""]
    if not stats.questions:
        lines.append("Im Zeitraum wurden keine Fragen gestellt.")
        return "\n".join(lines)
    lines += [
        f"Fragen: {f.count(stats.questions)}",
        f"Antwortquote: {_answer_rate(model)}",
        f"Unbeantwortet: {f.count(totals['unknown'])} · „Nichts davon“: {f.count(stats.gaps)}",
        f"Bewertungen: 👍 {f.count(stats.helpful)} · 👎 {f.count(stats.unhelpful)}",
        f"Auf Englisch: {_english(model)}",
    ]
    if stats.topics:
        top = ", ".join(f"{_label(model, topic)} ({f.count(n)})" for topic, n in stats.topics[:3])
        lines.append(f"Häufigste Themen: {top}")
    if model.gap_groups:
        lines.append(
            f"Offene Fragen: {f.number(model.gap_questions)} in "
            f"{f.number(model.gap_groups)} Gruppen – Details mit /luecken"
        )
    lines += ["", f.SUPPRESSION_NOTE]
    return _telegram("\n".join(lines))


def render_gaps(model: ReportModel) -> str:
    if not model.gaps:
        return "✅ Keine offenen Fragen im gespeicherten Zeitraum."
    lines = [
        f"🔍 Häufigste offene Fragen ({f.number(model.gap_groups)} Gruppen, "
        f"{f.number(model.gap_questions)} Fragen)",
        "",
    ]
    for number, item in enumerate(model.gaps, start=1):
        group, advice = item.group, item.advice
        lines.append(f"{number}. „{group.representative}“ – {group.count}× [{group.group_id}]")
        if advice.entry_id:
            name = advice.entry_title or advice.entry_id
            lines.append(f"   Nächster Eintrag: {name}" + _qualifier(advice))
        else:
            lines.append("   Kein passender Eintrag – neuer Eintrag nötig")
    lines += ["", "Vorschläge zum Einfügen stehen im vollständigen Bericht."]
    return _telegram("\n".join(lines))


def _text_lines(model: ReportModel) -> Iterator[str]:
    stats = model.stats
    totals = stats.totals
    yield "Auswertung des Fragenprotokolls"
    yield f"Zeitraum: {f.period(stats.since, stats.until)} · erstellt am {f.day(model.created)}"
    yield ""
    yield "Überblick"
    yield f"  Fragen gesamt:    {f.count(stats.questions)}"
    for outcome in OUTCOMES:
        yield f"  {f.OUTCOME_LABELS[outcome] + ':':<18}{f.count(totals[outcome])}"
    yield f"  Eintrag gewählt:  {f.count(stats.chosen)} (nach Rückfrage)"
    yield f"  Antwortquote:     {_answer_rate(model)}"
    yield f"  Bewertungen:      👍 {f.count(stats.helpful)} · 👎 {f.count(stats.unhelpful)}"
    yield f"  Auf Englisch:     {_english(model)}"
    if stats.dropped_rows:
        yield f"  Wegen Schreibfehlern verlorene Einträge: {f.number(stats.dropped_rows)}"
    yield ""
    yield "Fragen je Kalenderwoche"
    if not model.weeks:
        yield "  Keine Fragen im Zeitraum."
    else:
        header = ["Woche", "gesamt", *(f.OUTCOME_LABELS[o] for o in OUTCOMES), "Quote"]
        rows = [
            [
                f.week_label(week.key),
                f.count(week.total),
                *(f.count(week.outcomes.get(o, 0)) for o in OUTCOMES),
                _week_rate(week),
            ]
            for week in model.weeks
        ]
        yield from _table(header, rows)
    yield ""
    yield "Häufigste Themen"
    yield from _ranked([(_label(model, t), n) for t, n in stats.topics[:TOP_ITEMS]])
    yield ""
    yield "Häufigste Einträge (Antworten, 👍, 👎)"
    if not stats.entries:
        yield "  Keine."
    else:
        yield from _table(
            ["Eintrag", "Antworten", "👍", "👎"],
            [
                [_label(model, e.entry_id), f.count(e.questions), f.count(e.helpful),
                 f.count(e.unhelpful)]
                for e in stats.entries[:TOP_ITEMS]
            ],
        )  # fmt: skip
    yield ""
    yield from _gap_lines(model)
    yield ""
    yield f.RATE_NOTE
    yield f.SUPPRESSION_NOTE


def _gap_lines(model: ReportModel) -> Iterator[str]:
    yield (
        f"Offene Fragen: unbeantwortet, „Nichts davon“ oder 👎 "
        f"({f.number(model.gap_questions)} Fragen in {f.number(model.gap_groups)} Gruppen)"
    )
    if model.ignored_groups:
        yield f"  {f.number(model.ignored_groups)} Gruppen als irrelevant ausgeblendet."
    if not model.gaps:
        yield "  Keine."
        return
    for item in model.gaps:
        yield ""
        yield from _gap_item(item)
    rest = model.gap_groups - len(model.gaps)
    if rest > 0:
        yield ""
        yield f"  … und {f.number(rest)} weitere Gruppen (siehe CSV oder höheres Limit)."


def _gap_item(item: GapItem) -> Iterator[str]:
    group, advice = item.group, item.advice
    yield f"  [{group.group_id}] {group.count}× – {_reasons(item)}"
    if advice.entry_id:
        title = f" ({advice.entry_title})" if advice.entry_title else ""
        yield f"    Nächster Eintrag: {advice.entry_id}{title}{_qualifier(advice)}"
    else:
        yield "    Kein passender Eintrag gefunden."
    if advice.answer_rated_down:
        yield "    Hinweis: Antworten wurden überwiegend mit 👎 bewertet – Antworttext prüfen."
    yield "    Fragen:"
    for text, n in group.texts[:_TEXTS_PER_GROUP]:
        yield f"      - {text}" + (f" ({n}×)" if n > 1 else "")
    if len(group.texts) > _TEXTS_PER_GROUP:
        yield f"      … {len(group.texts) - _TEXTS_PER_GROUP} weitere Formulierungen"
    yield "    Vorschlag (YAML):"
    for line in advice.snippet.splitlines():
        yield f"      {line}"


def _csv_rows(model: ReportModel) -> Iterator[tuple[str, str, str, str, str]]:
    stats = model.stats
    totals = stats.totals
    yield ("zeitraum", "", "", "von", stats.since.isoformat() if stats.since else "")
    yield ("zeitraum", "", "", "bis", stats.until.isoformat() if stats.until else "")
    yield ("ueberblick", "", "", "fragen", f.count(stats.questions))
    for outcome in OUTCOMES:
        yield ("ueberblick", "", "", outcome, f.count(totals[outcome]))
    yield ("ueberblick", "", "", "eintrag_gewaehlt", f.count(stats.chosen))
    yield ("ueberblick", "", "", "antwortquote", _answer_rate(model))
    yield ("ueberblick", "", "", "hilfreich", f.count(stats.helpful))
    yield ("ueberblick", "", "", "nicht_hilfreich", f.count(stats.unhelpful))
    yield ("ueberblick", "", "", "englisch", f.count(stats.english))
    yield ("ueberblick", "", "", "anteil_englisch", f.rate(stats.english, stats.questions))
    yield ("ueberblick", "", "", "verlorene_eintraege", f.number(stats.dropped_rows))
    for week in model.weeks:
        yield ("woche", week.key, "", "fragen", f.count(week.total))
        for outcome in OUTCOMES:
            yield ("woche", week.key, "", outcome, f.count(week.outcomes.get(outcome, 0)))
        yield ("woche", week.key, "", "antwortquote", _week_rate(week))
    for topic, n in stats.topics:
        yield ("thema", topic, model.title(topic), "fragen", f.count(n))
    for entry in stats.entries:
        title = model.title(entry.entry_id)
        yield ("eintrag", entry.entry_id, title, "antworten", f.count(entry.questions))
        yield ("eintrag", entry.entry_id, title, "hilfreich", f.count(entry.helpful))
        yield ("eintrag", entry.entry_id, title, "nicht_hilfreich", f.count(entry.unhelpful))
    for item in model.gaps:
        group, advice = item.group, item.advice
        gid = group.group_id
        yield ("luecke", gid, group.representative, "fragen", str(group.count))
        yield ("luecke", gid, "", "unbeantwortet", str(group.unknown))
        yield ("luecke", gid, "", "nichts_davon", str(group.gaps))
        yield ("luecke", gid, "", "nicht_hilfreich", str(group.unhelpful))
        yield ("luecke", gid, advice.entry_title or "", "naechster_eintrag", advice.entry_id or "")
        yield ("luecke", gid, "", "yaml", advice.snippet)
        for text, n in group.texts:
            yield ("luecke_frage", gid, text, "anzahl", str(n))


def _qualifier(advice: Advice) -> str:
    if advice.answered_now:
        return " – wird inzwischen beantwortet"
    return " – unsicher" if advice.weak else ""


def _answer_rate(model: ReportModel) -> str:
    totals = model.stats.totals
    return f.answer_rate(
        totals["answered"], model.stats.chosen, model.stats.questions, totals["smalltalk"]
    )


def _english(model: ReportModel) -> str:
    """Questions answered in English: how many, and their share of all questions."""
    stats = model.stats
    return f"{f.count(stats.english)} ({f.rate(stats.english, stats.questions)})"


def _week_rate(week: WeekCounts) -> str:
    outcomes = week.outcomes
    return f.answer_rate(
        outcomes.get("answered", 0), week.chosen, week.total, outcomes.get("smalltalk", 0)
    )


def _reasons(item: GapItem) -> str:
    group = item.group
    parts = [
        (group.unknown, "unbeantwortet"),
        (group.gaps, "„Nichts davon“"),
        (group.unhelpful, "👎"),
    ]
    return ", ".join(f"{label} {n}" for n, label in parts if n)


def _label(model: ReportModel, item_id: str) -> str:
    title = model.title(item_id)
    return f"{title} ({item_id})" if title else item_id


def _ranked(items: list[tuple[str, int]]) -> Iterator[str]:
    if not items:
        yield "  Keine."
        return
    width = max(len(label) for label, _ in items)
    for position, (label, n) in enumerate(items, start=1):
        yield f"  {position:>2}. {label:<{width}}  {f.count(n):>7}"


def _table(header: list[str], rows: list[list[str]]) -> Iterator[str]:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [
            str(cell).ljust(width) if i == 0 else str(cell).rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        yield "  " + "  ".join(cells)


def _telegram(text: str) -> str:
    if len(text) <= TELEGRAM_LIMIT:
        return text
    return text[: TELEGRAM_LIMIT - 1].rsplit("\n", 1)[0] + "\n…"
