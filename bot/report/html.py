"""One self-contained HTML page: inline CSS, charts as data: URIs, no scripts.

The page is mailed around and opened offline, so it loads nothing from outside; a
Content-Security-Policy forbids it even if a question text tried to. Every text that
comes from the log or the knowledge base is escaped.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from html import escape

from bot.log.schema import OUTCOMES
from bot.report import charts
from bot.report import fmt as f
from bot.report.model import GapItem, ReportModel, WeekCounts
from bot.report.text import (
    action_label,
    followup_gap_line,
    followup_summary,
    next_step_lines,
    ticket_line,
)

TOP_ITEMS = 10
_TEXTS_SHOWN = 3
"""Wordings of a group shown at once; the rest fold away."""
_OPEN_GAPS = 3
"""Gap cards open at first sight (the first screen's "Nächste Schritte"); the rest folded."""

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:60rem;
color:#222;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0}
th,td{padding:.2rem .6rem;border-bottom:1px solid #eee}
th{text-align:left;background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
.kpi{display:flex;gap:1rem;flex-wrap:wrap}.kpi div{background:#f4f7f6;padding:.6rem 1rem;
border-radius:.4rem}.kpi b{display:block;font-size:1.4rem}
.gap{border:1px solid #ddd;border-radius:.4rem;padding:.6rem 1rem;margin:1rem 0}
.gid{font-family:monospace;color:#555}pre{background:#f6f6f6;padding:.6rem;
white-space:pre-wrap;overflow-wrap:anywhere}
.note{color:#555;font-size:.9rem}img{max-width:100%}
.next{background:#fff8e6;border:1px solid #e0a526;border-radius:.4rem;padding:.6rem 1rem}
.next h2{margin-top:.2rem;border:0}.next li{margin:.3rem 0}
details>summary{cursor:pointer}details.gap>summary{font-weight:600}
.kpi span{display:block;font-size:.85rem;color:#444}
"""
_CHART_NOTE = f"Werte unter {f.MIN_COUNT} sind in den Diagrammen nicht dargestellt."
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def render_html(model: ReportModel) -> str:
    body = "\n".join(_body(model))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="de">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>Auswertung des Fragenprotokolls</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _body(model: ReportModel) -> Iterator[str]:
    stats = model.stats
    totals = stats.totals
    yield "<h1>Auswertung des Fragenprotokolls</h1>"
    yield (
        f"<p>Zeitraum: {_e(f.period(stats.since, stats.until))} · "
        f"Kanal: {_e(f.channel(stats.channel))} · erstellt am {_e(f.day(model.created))}</p>"
    )
    yield from _next_steps(model)
    yield '<div class="kpi">'
    for label, value in (
        ("Fragen", f.count(stats.questions)),
        ("Antwortquote", f.answer_rate(totals["answered"], stats.chosen, stats.questions,
                                       f.conversational(totals))),
        ("unbeantwortet", f.count(totals["unknown"])),
        ("„Nichts davon“", f.count(stats.gaps)),
        ("hilfreich (👍)", f.count(stats.helpful)),
        ("nicht hilfreich (👎)", f.count(stats.unhelpful)),
        ("auf Englisch", f.rate(stats.english, stats.questions)),
        ("Nachfragen (nicht mitgezählt)", f.count(model.followups)),
    ):  # fmt: skip
        yield f"<div><b>{_e(value)}</b><span>{_e(label)}</span></div>"
    yield "</div>"
    if stats.dropped_rows:
        yield (
            f'<p class="note">Wegen Schreibfehlern verlorene Einträge: '
            f"{_e(f.number(stats.dropped_rows))}</p>"
        )
    yield "<h2>Fragen je Kalenderwoche</h2>"
    yield _img(weekly_chart(model.weeks), "Fragen je Kalenderwoche nach Ergebnis")
    yield f'<p class="note">{_CHART_NOTE}</p>'
    yield from _week_table(model.weeks)
    yield "<h2>Häufigste Themen (beantwortete Fragen)</h2>"
    topics = [(model.topic_title(t) or t, n) for t, n in model.topics[:TOP_ITEMS]]
    yield _img(
        charts.horizontal_bars_png(_chartable(topics), title="Häufigste Themen", xlabel="Fragen"),
        "Häufigste Themen",
    )
    yield f'<p class="note">{_CHART_NOTE}</p>'
    yield from _table(["Thema", "Fragen"], [[label, f.count(n)] for label, n in topics])
    yield "<h2>Häufigste Einträge</h2>"
    yield from _table(
        ["Eintrag", "Antworten", "hilfreich 👍", "nicht hilfreich 👎"],
        [
            [_label(model, e.entry_id), f.count(e.questions), f.count(e.helpful),
             f.count(e.unhelpful)]
            for e in stats.entries[:TOP_ITEMS]
        ],
    )  # fmt: skip
    yield from _followups(model)
    yield from _tickets(model)
    yield "<h2>Offene Lücken</h2>"
    yield (
        f"<p>Unbeantwortet, „Nichts davon“ gewählt oder mit 👎 bewertet: "
        f"{_e(f.number(model.gap_questions))} Fragen in {_e(f.number(model.gap_groups))} "
        "Gruppen ähnlicher Formulierungen, die meisten Personen zuerst.</p>"
    )
    if model.ignored_groups:
        yield (
            f'<p class="note">{_e(f.number(model.ignored_groups))} Gruppen als irrelevant '
            "ausgeblendet.</p>"
        )
    for number, item in enumerate(model.gaps):
        yield from _gap(model, item, opened=number < _OPEN_GAPS)
    rest = model.gap_groups - len(model.gaps)
    if rest > 0:
        yield f"<p>… und {_e(f.number(rest))} weitere Gruppen.</p>"
    yield from _done(model)
    yield from _off_topic(model)
    yield (
        f'<p class="note">{_e(f.RATE_NOTE)}<br>{_e(f.FOLLOWUP_NOTE)}<br>'
        f"{_e(f.SUPPRESSION_NOTE)}</p>"
    )


def _followups(model: ReportModel) -> Iterator[str]:
    """Follow-ups about the last card, apart from the questions of their own: by kind, and
    per entry the ones its source could not answer, with what to add."""
    yield "<h2>Nachfragen zur letzten Antwort</h2>"
    yield f"<p>{_e(followup_summary(model))}.</p>"
    if not model.followups:
        return
    kinds = [(f.FOLLOWUP_LABELS.get(k.kind, k.kind), k.questions) for k in model.followup_kinds]
    yield _img(
        charts.horizontal_bars_png(_chartable(kinds), title="Nachfragen nach Art",
                                   xlabel="Nachfragen"),
        "Nachfragen nach Art",
    )  # fmt: skip
    yield f'<p class="note">{_CHART_NOTE}</p>'
    yield from _table(
        ["Art", "Nachfragen", "unbeantwortet"],
        [
            [f.FOLLOWUP_LABELS.get(k.kind, k.kind), f.count(k.questions), f.count(k.unanswered)]
            for k in model.followup_kinds
        ],
    )
    yield "<h3>Nachfragen, die die Quelle des Eintrags nicht beantwortet</h3>"
    if not model.followup_gaps:
        yield "<p>Keine.</p>"
        return
    yield "<ul>"
    for gap in model.followup_gaps:
        yield (
            f"<li>{_e(followup_gap_line(model, gap))}<br>"
            f"<small>Vorschlag: {_e(gap.action)}.</small></li>"
        )
    yield "</ul>"


def _tickets(model: ReportModel) -> Iterator[str]:
    line = ticket_line(model)
    if line is None:
        return
    yield "<h2>Anfragen an die Beratungsstelle</h2>"
    yield f"<p>{_e(line)} (nur Anzahlen im Zeitraum).</p>"


def _next_steps(model: ReportModel) -> Iterator[str]:
    """The first screen: the same lines as the text report, steps numbered, the rest listed."""
    lines = [line.strip() for line in next_step_lines(model)]
    raw = list(next_step_lines(model))
    steps: list[str] = []
    notes: list[str] = []
    for line, original in zip(lines[1:], raw[1:], strict=True):
        if original.startswith("     ") and steps:  # the detail line of a numbered step
            steps[-1] += f"<br><small>{_e(line)}</small>"
        elif line[:1].isdigit() and ". " in line[:4]:
            steps.append(f"<b>{_e(line.split('. ', 1)[1])}</b>")
        else:
            notes.append(_e(line))
    yield '<section class="next">'
    yield f"<h2>{_e(lines[0])}</h2>"
    if steps:
        yield "<ol>" + "".join(f"<li>{step}</li>" for step in steps) + "</ol>"
    yield "<ul>" + "".join(f"<li>{note}</li>" for note in notes) + "</ul>"
    if model.next_steps:
        yield '<p class="note">Die Vorschläge zum Einfügen stehen unten bei den Lücken.</p>'
    yield "</section>"


def _done(model: ReportModel) -> Iterator[str]:
    if not model.done:
        return
    yield (
        f"<details><summary><b>Erledigt: {_e(f.number(len(model.done)))} Lücken</b> beantwortet "
        "die Wissensbasis inzwischen (mit ihr erneut gesucht)</summary><ul>"
    )
    for item in model.done:
        group = item.group
        entry = item.advice.entry_id or ""
        yield (
            f"<li>„{_e(group.representative)}“ – {group.count}× → "
            f"{_e(model.title(entry) or item.advice.entry_title or entry)}</li>"
        )
    yield "</ul></details>"


def _off_topic(model: ReportModel) -> Iterator[str]:
    if not model.off_topic:
        return
    yield "<h2>Themenfremde Fragen</h2>"
    yield (
        '<p class="note">Dazu gibt es kein Angebot; der Bot verweist laut suche.yaml '
        "weiter. Nichts zu ergänzen – nur gut zu wissen.</p>"
    )
    yield "<table><thead><tr><th>Thema</th><th>Fragen</th><th>Hinweis des Bots</th>"
    yield "<th>Beispiele</th></tr></thead><tbody>"
    for item in model.off_topic:
        examples = "<br>".join(f"„{_e(t)}“" for t in item.texts[:3])
        yield (
            f'<tr><td>{_e(item.subject)}</td><td class="n">{item.count}</td>'
            f"<td>{_e(item.redirect)}</td><td>{examples}</td></tr>"
        )
    yield "</tbody></table>"


def weekly_chart(weeks: tuple[WeekCounts, ...]) -> bytes:
    series = [
        (f.OUTCOME_LABELS[o], [_suppressed(w.outcomes.get(o, 0)) for w in weeks]) for o in OUTCOMES
    ]
    return charts.stacked_bars_png(
        [f.week_label(w.key) for w in weeks],
        series,
        title="Fragen je Kalenderwoche",
        ylabel="Fragen",
    )


def _week_table(weeks: tuple[WeekCounts, ...]) -> Iterator[str]:
    rows = []
    for week in weeks:
        outcomes = week.outcomes
        rows.append(
            [
                f.week_label(week.key),
                f.count(week.total),
                *(f.count(outcomes.get(o, 0)) for o in OUTCOMES),
                f.answer_rate(outcomes.get("answered", 0), week.chosen, week.total,
                              f.conversational(outcomes)),
            ]
        )  # fmt: skip
    header = ["Woche", "gesamt", *(f.OUTCOME_LABELS[o] for o in OUTCOMES), "Antwortquote"]
    yield from _table(header, rows)


def _gap(model: ReportModel, item: GapItem, *, opened: bool) -> Iterator[str]:
    """One group as a folding card: the summary says who asked and what to do."""
    group, advice = item.group, item.advice
    reasons = ", ".join(
        f"{label} {n}"
        for n, label in ((group.unknown, "unbeantwortet"), (group.gaps, "„Nichts davon“"),
                         (group.unhelpful, "👎"))
        if n
    )  # fmt: skip
    people = "1 Person" if group.people == 1 else f"{group.people} Personen"
    yield f'<details class="gap"{" open" if opened else ""}>'
    yield (
        f"<summary>„{_e(group.representative)}“ – {_e(people)} · "
        f"{_e(action_label(model, item))}</summary>"
    )
    yield (
        f'<p>Gruppe <span class="gid">{_e(group.group_id)}</span> · {group.count} Fragen · '
        f"{_e(reasons)}</p>"
    )
    if advice.answer_rated_down:
        yield "<p>Die Antwort wurde überwiegend mit 👎 bewertet – Antworttext prüfen.</p>"
    if advice.nearby:
        nearby = ", ".join(f"„{_e(t)}“" for t in advice.nearby)
        yield f"<p>Vorher prüfen, ob die Fragen zu einem vorhandenen Eintrag gehören: {nearby}</p>"
    texts = [f"<li>{_e(text)}{_e(f' ({n}×)' if n > 1 else '')}</li>" for text, n in group.texts]
    yield "<ul>" + "".join(texts[:_TEXTS_SHOWN]) + "</ul>"
    if len(texts) > _TEXTS_SHOWN:
        yield (
            f"<details><summary>{len(texts) - _TEXTS_SHOWN} weitere Formulierungen</summary>"
            "<ul>" + "".join(texts[_TEXTS_SHOWN:]) + "</ul></details>"
        )
    if advice.snippet:
        yield f"<p>YAML zum Einfügen:</p><pre>{_e(advice.snippet)}</pre>"
    yield "</details>"


def _table(header: list[str], rows: Iterable[list[str]]) -> Iterator[str]:
    rows = list(rows)
    if not rows:
        yield "<p>Keine.</p>"
        return
    yield "<table><thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr></thead>"
    yield "<tbody>"
    for row in rows:
        cells = "".join(
            f"<td>{_e(c)}</td>" if i == 0 else f'<td class="n">{_e(c)}</td>'
            for i, c in enumerate(row)
        )
        yield f"<tr>{cells}</tr>"
    yield "</tbody></table>"


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{_e(alt)}">'


def _chartable(items: list[tuple[str, int]]) -> list[tuple[str, int]]:
    return [(label, _suppressed(n)) for label, n in items]


def _suppressed(value: int) -> int:
    """Charts cannot print "<5"; small values are left out instead."""
    return value if value >= f.MIN_COUNT else 0


def _label(model: ReportModel, item_id: str) -> str:
    return model.title(item_id) or item_id


def _e(value: object) -> str:
    return escape(str(value), quote=True)
