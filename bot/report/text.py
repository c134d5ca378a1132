"""Plain-text and CSV renderings of a report, and the short Telegram texts.

Texts are plain (no markup). For Telegram's HTML parse mode, ``html_messages`` escapes them
line by line before it measures and splits, so no part can outgrow the limit through
escaping or be cut inside a tag.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from html import escape

from bot.log.schema import OUTCOMES
from bot.report import fmt as f
from bot.report.model import FollowupGap, GapItem, ReportModel, WeekCounts

TOP_ITEMS = 10
NEXT_FOLLOWUPS = 3
"""Entries with unanswered follow-ups named on the first screen."""
TELEGRAM_LIMIT = 4096
_TEXTS_PER_GROUP = 5
_QUOTE = 90
"""Characters of a question quoted on the first screen."""


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


def render_next_steps(model: ReportModel, *, heading: str | None = None) -> str:
    """The first screen alone: what to do next (weekly message, /bericht caption)."""
    lines = [heading] if heading else []
    lines += list(next_step_lines(model))
    return "\n".join(lines)


def next_step_lines(model: ReportModel) -> Iterator[str]:
    """Three biggest gaps, the entries with most 👎, what changed, and what needs nothing."""
    yield "Nächste Schritte"
    if not model.gaps and not model.followup_gaps:
        yield "  Keine offenen Lücken – die Wissensbasis beantwortet alles, was gefragt wurde."
    elif not model.gaps:
        yield "  Keine offenen Lücken bei neuen Fragen."
    for number, item in enumerate(model.next_steps, start=1):
        yield f"  {number}. {action_label(model, item)}"
        group = item.group
        yield f"     {_asked(item)}, z. B. „{_cut(group.representative)}“ [{group.group_id}]"
    if len(model.gaps) > len(model.next_steps):
        yield f"  … {f.number(model.gap_groups - len(model.next_steps))} weitere Lücken unten."
    down = model.most_rated_down
    if down:
        yield "  Am häufigsten nicht hilfreich (👎): " + " · ".join(
            f"{_entry(model, e.entry_id)} ({f.count(e.unhelpful)} von {f.count(e.questions)})"
            for e in down
        )
    followup_gaps = model.followup_gaps
    for gap in followup_gaps[:NEXT_FOLLOWUPS]:
        yield f"  {followup_gap_line(model, gap)} → {gap.action}."
    if len(followup_gaps) > NEXT_FOLLOWUPS:
        yield (
            f"  … {f.number(len(followup_gaps) - NEXT_FOLLOWUPS)} weitere Einträge mit "
            "unbeantworteten Nachfragen unten."
        )
    change = model.change
    if change is not None:
        now, before = change.now, change.before
        yield (
            f"  Seit der Vorwoche ({f.short_day(now.first)}–{f.day(now.last)} gegenüber "
            f"{f.short_day(before.first)}–{f.short_day(before.last)}): "
            f"Fragen {f.change(before.questions, now.questions)} · Antwortquote "
            f"{f.rate(before.answered, before.rate_base)} → {f.rate(now.answered, now.rate_base)}"
            f" · {f.number(change.new_gaps)} neue Lücken"
        )
    if model.done:
        done = len(model.done)
        yield (
            f"  Erledigt: {f.number(done)} frühere {'Lücke' if done == 1 else 'Lücken'} "
            "beantwortet die Wissensbasis inzwischen."
        )
    if model.off_topic:
        total = sum(o.count for o in model.off_topic)
        subjects = ", ".join(o.subject for o in model.off_topic[:3])
        yield (
            f"  Themenfremd: {f.number(total)} Fragen ({subjects}) – der Bot verweist "
            "laut suche.yaml weiter, nichts zu ergänzen."
        )
    others = model.stats.other_channels
    if others:
        yield "  Nicht mitgezählt: " + ", ".join(
            f"{f.number(n)} Fragen aus {f.channel(name)}" for name, n in others
        )


def followup_gap_line(model: ReportModel, gap: FollowupGap) -> str:
    """'Zu „Gleitzeit“ (gleitzeit) fragten 7 nach der Zuständigkeit – die Quelle nennt keine.'"""
    return (
        f"Zu {_entry(model, gap.entry_id, quoted=True)} fragten {f.count(gap.questions)} "
        f"{f.FOLLOWUP_ASKED.get(gap.kind, gap.kind)} – "
        f"{f.FOLLOWUP_UNSAID.get(gap.kind, 'die Quelle sagt es nicht')}."
    )


def ticket_line(model: ReportModel) -> str | None:
    """Requests to the counselling office in the period: counts only, never a request."""
    tickets = model.tickets
    if tickets is None:
        return None
    return (
        f"geöffnet {f.count(tickets.opened)} · von der Beratungsstelle beantwortet "
        f"{f.count(tickets.answered)} · abgeschlossen {f.count(tickets.closed)}"
    )


def followup_summary(model: ReportModel) -> str:
    """'12 zur letzten Antwort, davon 5 unbeantwortet'."""
    return (
        f"{f.count(model.followups)} zur letzten Antwort, davon "
        f"{f.count(model.followups_unanswered)} unbeantwortet"
    )


def action_label(model: ReportModel, item: GapItem) -> str:
    """What to do, in a few words: the verb first, then the entry."""
    advice = item.advice
    entry = _entry(model, advice.entry_id or "", quoted=True, title=advice.entry_title)
    if advice.action == "beispiel":
        return f"Beispielfragen ergänzen bei {entry}"
    if advice.action == "pruefen":
        return f"Antwort prüfen: {entry} ({item.group.unhelpful}× 👎)"
    if advice.action == "erledigt":
        return f"Erledigt: beantwortet von {entry}"
    if advice.action == "themenfremd":
        return f"Themenfremd: {advice.subject}"
    return f"Neuer Eintrag „{advice.new_id}“"


def render_summary(model: ReportModel, days: int) -> str:
    stats = model.stats
    totals = stats.totals
    lines = [f"📊 Statistik der letzten {days} Tage ({f.channel(stats.channel)})", ""]
    if not stats.questions:
        lines.append("Im Zeitraum wurden keine Fragen gestellt.")
        return "\n".join(lines)
    lines += [
        f"Fragen: {f.count(stats.questions)}",
        f"Antwortquote: {_answer_rate(model)}",
        f"Unbeantwortet: {f.count(totals['unknown'])} · „Nichts davon“: {f.count(stats.gaps)}",
        f"Bewertungen: hilfreich 👍 {f.count(stats.helpful)} · nicht hilfreich 👎 "
        f"{f.count(stats.unhelpful)}",
        f"Auf Englisch: {_english(model)}",
    ]
    if model.followups:
        lines.append(f"Nachfragen (nicht mitgezählt): {followup_summary(model)}")
    tickets = ticket_line(model)
    if tickets and model.tickets and (model.tickets.opened or model.tickets.closed):
        lines.append(f"Anfragen an die Beratungsstelle: {tickets}")
    if model.topics:
        top = ", ".join(f"{_topic(model, topic)} ({f.count(n)})" for topic, n in model.topics[:3])
        lines.append(f"Häufigste Themen (beantwortete Fragen): {top}")
    if model.gap_groups:
        lines.append(
            f"Offene Fragen: {f.number(model.gap_questions)} in "
            f"{f.number(model.gap_groups)} Gruppen – Details mit /luecken, alles mit /bericht"
        )
    if model.followup_gaps:
        entries = len(model.followup_gaps)
        lines.append(
            f"Nachfragen ohne Antwort: {f.number(entries)} "
            f"{'Eintrag' if entries == 1 else 'Einträge'} – Details mit /bericht"
        )
    lines += ["", f.SUPPRESSION_NOTE]
    return "\n".join(lines)


def render_gaps(model: ReportModel) -> str:
    if not model.gaps:
        lines = ["✅ Keine offenen Lücken im gespeicherten Zeitraum."]
    else:
        lines = [
            f"🔍 Offene Lücken: {f.number(model.gap_groups)} Gruppen, "
            f"{f.number(model.gap_questions)} Fragen – die meisten Personen zuerst",
            "",
        ]
        for number, item in enumerate(model.gaps, start=1):
            group = item.group
            lines.append(f"{number}. „{_cut(group.representative)}“ – {_asked(item)}")
            lines.append(f"   → {action_label(model, item)} [{group.group_id}]")
    extra = []
    if model.done:
        extra.append(f"✅ erledigt: {f.number(len(model.done))}")
    if model.off_topic:
        extra.append(f"🧭 themenfremd: {f.number(sum(o.count for o in model.off_topic))} Fragen")
    if extra:
        lines += ["", " · ".join(extra)]
    if model.gaps:
        lines += ["", "YAML-Vorschläge zum Einfügen stehen im Bericht (/bericht)."]
    return "\n".join(lines)


def html_messages(text: str, *, limit: int = TELEGRAM_LIMIT, bold_first: bool = True) -> list[str]:
    """Telegram HTML messages of at most ``limit`` characters from a plain text of any length.

    Each line is escaped first, then lines are packed into messages; a markup tag never
    spans a line, so every message is valid HTML on its own. A line too long even alone is
    cut between words of the plain text, each piece escaped and measured again.
    """
    pieces: list[str] = []
    for number, line in enumerate(text.split("\n")):
        for piece in _escaped_pieces(line, limit - len("<b></b>")):
            pieces.append(f"<b>{piece}</b>" if bold_first and number == 0 and piece else piece)
    messages: list[str] = []
    current: list[str] = []
    size = 0
    for piece in pieces:
        extra = len(piece) + (1 if current else 0)
        if current and size + extra > limit:
            messages.append("\n".join(current))
            current, size = [], 0
            extra = len(piece)
        current.append(piece)
        size += extra
    if current:
        messages.append("\n".join(current))
    return [m for m in (m.strip("\n") for m in messages) if m.strip()]


def _escaped_pieces(line: str, limit: int) -> Iterator[str]:
    rest = line
    while len(escape(rest, quote=False)) > limit:
        cut = min(len(rest), limit)  # escaping never shortens, so start at the limit
        while (size := len(escape(rest[:cut], quote=False))) > limit:
            cut = max(1, min(cut - 1, cut * limit // size))
        space = rest.rfind(" ", 0, cut)
        cut = space if space > cut // 2 else cut
        yield escape(rest[:cut], quote=False)
        rest = rest[cut:].lstrip()
    yield escape(rest, quote=False)


def _text_lines(model: ReportModel) -> Iterator[str]:
    stats = model.stats
    totals = stats.totals
    yield "Auswertung des Fragenprotokolls"
    yield (
        f"Zeitraum: {f.period(stats.since, stats.until)} · Kanal: {f.channel(stats.channel)}"
        f" · erstellt am {f.day(model.created)}"
    )
    yield ""
    yield from next_step_lines(model)
    yield ""
    yield "Überblick"
    yield f"  Fragen gesamt:    {f.count(stats.questions)}"
    for outcome in OUTCOMES:
        yield f"  {f.OUTCOME_LABELS[outcome] + ':':<18}{f.count(totals[outcome])}"
    yield f"  Eintrag gewählt:  {f.count(stats.chosen)} (nach Rückfrage)"
    yield f"  Antwortquote:     {_answer_rate(model)}"
    yield (
        f"  Bewertungen:      hilfreich 👍 {f.count(stats.helpful)} · "
        f"nicht hilfreich 👎 {f.count(stats.unhelpful)}"
    )
    yield f"  Auf Englisch:     {_english(model)}"
    yield f"  Nachfragen:       {followup_summary(model)} (nicht mitgezählt)"
    tickets = ticket_line(model)
    if tickets:
        yield f"  Anfragen an die Beratungsstelle: {tickets}"
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
    yield "Häufigste Themen (beantwortete Fragen)"
    yield from _ranked([(_topic(model, t), n) for t, n in model.topics[:TOP_ITEMS]])
    yield ""
    yield "Häufigste Einträge (Antworten, hilfreich, nicht hilfreich)"
    if not stats.entries:
        yield "  Keine."
    else:
        yield from _table(
            ["Eintrag", "Antworten", "👍", "👎"],
            [
                [_entry(model, e.entry_id), f.count(e.questions), f.count(e.helpful),
                 f.count(e.unhelpful)]
                for e in stats.entries[:TOP_ITEMS]
            ],
        )  # fmt: skip
    yield ""
    yield from _followup_lines(model)
    yield ""
    yield from _gap_lines(model)
    yield from _done_lines(model)
    yield from _off_topic_lines(model)
    yield ""
    yield f.RATE_NOTE
    yield f.FOLLOWUP_NOTE
    yield f.SUPPRESSION_NOTE


def _followup_lines(model: ReportModel) -> Iterator[str]:
    yield f"Nachfragen zur letzten Antwort ({f.count(model.followups)})"
    if not model.followups:
        yield "  Keine."
        return
    yield from _table(
        ["Art", "Nachfragen", "unbeantwortet"],
        [
            [f.FOLLOWUP_LABELS.get(k.kind, k.kind), f.count(k.questions), f.count(k.unanswered)]
            for k in model.followup_kinds
        ],
    )
    yield ""
    yield "Nachfragen, die die Quelle des Eintrags nicht beantwortet (Inhalt ergänzen)"
    if not model.followup_gaps:
        yield "  Keine."
        return
    for gap in model.followup_gaps:
        yield f"  {followup_gap_line(model, gap)}"
        yield f"    Vorschlag: {gap.action}."


def _gap_lines(model: ReportModel) -> Iterator[str]:
    yield (
        f"Offene Lücken: unbeantwortet, „Nichts davon“ oder 👎 "
        f"({f.number(model.gap_questions)} Fragen in {f.number(model.gap_groups)} Gruppen, "
        "die meisten Personen zuerst)"
    )
    if model.ignored_groups:
        yield f"  {f.number(model.ignored_groups)} Gruppen als irrelevant ausgeblendet."
    if not model.gaps:
        yield "  Keine."
        return
    for item in model.gaps:
        yield ""
        yield from _gap_item(model, item)
    rest = model.gap_groups - len(model.gaps)
    if rest > 0:
        yield ""
        yield f"  … und {f.number(rest)} weitere Gruppen (siehe CSV oder höheres Limit)."


def _gap_item(model: ReportModel, item: GapItem) -> Iterator[str]:
    group, advice = item.group, item.advice
    yield f"  [{group.group_id}] {_asked(item)} – {_reasons(item)}"
    yield f"    Vorschlag: {action_label(model, item)}"
    if advice.action == "pruefen":
        yield "    Die Antwort wurde überwiegend mit 👎 bewertet – Antworttext prüfen."
    if advice.nearby:
        yield (
            "    Vorher prüfen, ob die Fragen zu einem vorhandenen Eintrag gehören: "
            + ", ".join(f"„{t}“" for t in advice.nearby)
        )
    yield "    Fragen:"
    for text, n in group.texts[:_TEXTS_PER_GROUP]:
        yield f"      - {text}" + (f" ({n}×)" if n > 1 else "")
    if len(group.texts) > _TEXTS_PER_GROUP:
        yield f"      … {len(group.texts) - _TEXTS_PER_GROUP} weitere Formulierungen"
    if advice.snippet:
        yield "    YAML zum Einfügen:"
        for line in advice.snippet.splitlines():
            yield f"      {line}"


def _done_lines(model: ReportModel) -> Iterator[str]:
    if not model.done:
        return
    yield ""
    yield (
        f"Erledigt: {f.number(len(model.done))} Lücken beantwortet die Wissensbasis inzwischen "
        "(mit ihr erneut gesucht)"
    )
    for item in model.done:
        group = item.group
        yield (
            f"  [{group.group_id}] „{_cut(group.representative)}“ – {group.count}× → "
            f"{_entry(model, item.advice.entry_id or '', title=item.advice.entry_title)}"
        )


def _off_topic_lines(model: ReportModel) -> Iterator[str]:
    if not model.off_topic:
        return
    yield ""
    yield "Themenfremde Fragen (der Bot verweist laut suche.yaml weiter; nichts zu ergänzen)"
    for item in model.off_topic:
        yield f"  {item.subject}: {item.count} Fragen von {item.people} Personen"
        yield f"    Hinweis des Bots: {item.redirect}"
        yield "    z. B. " + " · ".join(f"„{_cut(t)}“" for t in item.texts[:3])


def _csv_rows(model: ReportModel) -> Iterator[tuple[str, str, str, str, str]]:
    stats = model.stats
    totals = stats.totals
    yield ("zeitraum", "", "", "von", stats.since.isoformat() if stats.since else "")
    yield ("zeitraum", "", "", "bis", stats.until.isoformat() if stats.until else "")
    yield ("zeitraum", "", "", "kanal", f.channel(stats.channel))
    yield ("ueberblick", "", "", "fragen", f.count(stats.questions))
    for outcome in OUTCOMES:
        yield ("ueberblick", "", "", f.OUTCOME_VALUES[outcome], f.count(totals[outcome]))
    yield ("ueberblick", "", "", "eintrag_gewaehlt", f.count(stats.chosen))
    yield ("ueberblick", "", "", "antwortquote", _answer_rate(model))
    yield ("ueberblick", "", "", "hilfreich", f.count(stats.helpful))
    yield ("ueberblick", "", "", "nicht_hilfreich", f.count(stats.unhelpful))
    yield ("ueberblick", "", "", "englisch", f.count(stats.english))
    yield ("ueberblick", "", "", "anteil_englisch", f.rate(stats.english, stats.questions))
    yield ("ueberblick", "", "", "verlorene_eintraege", f.number(stats.dropped_rows))
    yield ("ueberblick", "", "", "nachfragen", f.count(model.followups))
    yield ("ueberblick", "", "", "nachfragen_unbeantwortet", f.count(model.followups_unanswered))
    if model.tickets is not None:
        yield ("beratungsstelle", "", "", "anfragen_geoeffnet", f.count(model.tickets.opened))
        yield ("beratungsstelle", "", "", "anfragen_beantwortet", f.count(model.tickets.answered))
        yield ("beratungsstelle", "", "", "anfragen_abgeschlossen", f.count(model.tickets.closed))
    for name, n in stats.other_channels:
        yield ("andere_kanaele", name, f.channel(name), "fragen", f.count(n))
    for week in model.weeks:
        yield ("woche", week.key, "", "fragen", f.count(week.total))
        for outcome in OUTCOMES:
            yield ("woche", week.key, "", f.OUTCOME_VALUES[outcome],
                   f.count(week.outcomes.get(outcome, 0)))  # fmt: skip
        yield ("woche", week.key, "", "antwortquote", _week_rate(week))
    for topic, n in model.topics:
        yield ("thema", topic, model.topic_title(topic), "fragen", f.count(n))
    for entry in stats.entries:
        title = model.title(entry.entry_id)
        yield ("eintrag", entry.entry_id, title, "antworten", f.count(entry.questions))
        yield ("eintrag", entry.entry_id, title, "hilfreich", f.count(entry.helpful))
        yield ("eintrag", entry.entry_id, title, "nicht_hilfreich", f.count(entry.unhelpful))
    for item in (*model.gaps, *model.done):
        group, advice = item.group, item.advice
        gid = group.group_id
        yield ("luecke", gid, group.representative, "fragen", str(group.count))
        yield ("luecke", gid, "", "personen", str(group.people))
        yield ("luecke", gid, "", "unbeantwortet", str(group.unknown))
        yield ("luecke", gid, "", "nichts_davon", str(group.gaps))
        yield ("luecke", gid, "", "nicht_hilfreich", str(group.unhelpful))
        yield ("luecke", gid, action_label(model, item), "aktion", advice.action)
        yield ("luecke", gid, advice.entry_title or "", "eintrag", advice.entry_id or "")
        yield ("luecke", gid, "", "neue_id", advice.new_id or "")
        yield ("luecke", gid, "", "yaml", advice.snippet)
        for text, n in group.texts:
            yield ("luecke_frage", gid, text, "anzahl", str(n))
    for off in model.off_topic:
        yield ("themenfremd", off.subject, off.redirect, "fragen", str(off.count))
    for kind in model.followup_kinds:
        label = f.FOLLOWUP_LABELS.get(kind.kind, kind.kind)
        yield ("nachfrage", kind.kind, label, "fragen", f.count(kind.questions))
        yield ("nachfrage", kind.kind, label, "unbeantwortet", f.count(kind.unanswered))
    for gap in model.followup_gaps:
        label = f.FOLLOWUP_LABELS.get(gap.kind, gap.kind)
        yield ("nachfrage_luecke", gap.entry_id, model.title(gap.entry_id), "art", label)
        yield ("nachfrage_luecke", gap.entry_id, "", "unbeantwortet", f.count(gap.questions))
        yield ("nachfrage_luecke", gap.entry_id, gap.action, "aktion", gap.kind)


def _asked(item: GapItem) -> str:
    group = item.group
    people = "1 Person" if group.people == 1 else f"{f.number(group.people)} Personen"
    if group.people == group.count:
        return people
    return f"{people}, {f.number(group.count)} Fragen"


def _cut(text: str, limit: int = _QUOTE) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _answer_rate(model: ReportModel) -> str:
    totals = model.stats.totals
    return f.answer_rate(
        totals["answered"], model.stats.chosen, model.stats.questions, f.conversational(totals)
    )


def _english(model: ReportModel) -> str:
    """Questions answered in English: how many, and their share of all questions."""
    stats = model.stats
    return f"{f.count(stats.english)} ({f.rate(stats.english, stats.questions)})"


def _week_rate(week: WeekCounts) -> str:
    outcomes = week.outcomes
    return f.answer_rate(
        outcomes.get("answered", 0), week.chosen, week.total, f.conversational(outcomes)
    )


def _reasons(item: GapItem) -> str:
    group = item.group
    parts = [
        (group.unknown, "unbeantwortet"),
        (group.gaps, "„Nichts davon“"),
        (group.unhelpful, "👎"),
    ]
    return ", ".join(f"{label} {n}" for n, label in parts if n)


def _entry(
    model: ReportModel, entry_id: str, *, quoted: bool = False, title: str | None = None
) -> str:
    """An entry by its title; the id only where the team needs it to find the YAML."""
    title = model.title(entry_id) or title
    if not title:
        return f"„{entry_id}“" if quoted else entry_id
    return f"„{title}“ ({entry_id})" if quoted else title


def _topic(model: ReportModel, topic_id: str) -> str:
    return model.topic_title(topic_id) or topic_id


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
