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

TOP_ITEMS = 10
_TEXTS_PER_GROUP = 8

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
.gid{font-family:monospace;color:#555}pre{background:#f6f6f6;padding:.6rem;overflow-x:auto}
.note{color:#555;font-size:.9rem}img{max-width:100%}
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
        f"erstellt am {_e(f.day(model.created))}</p>"
    )
    yield '<div class="kpi">'
    for label, value in (
        ("Fragen", f.count(stats.questions)),
        ("Antwortquote", f.answer_rate(totals["answered"], stats.chosen, stats.questions,
                                       totals["smalltalk"])),
        ("unbeantwortet", f.count(totals["unknown"])),
        ("„Nichts davon“", f.count(stats.gaps)),
        ("👍", f.count(stats.helpful)),
        ("👎", f.count(stats.unhelpful)),
        ("auf Englisch", f.rate(stats.english, stats.questions)),
    ):  # fmt: skip
        yield f"<div><b>{_e(value)}</b>{_e(label)}</div>"
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
    yield "<h2>Häufigste Themen</h2>"
    topics = [(_label(model, t), n) for t, n in stats.topics[:TOP_ITEMS]]
    yield _img(
        charts.horizontal_bars_png(_chartable(topics), title="Häufigste Themen", xlabel="Fragen"),
        "Häufigste Themen",
    )
    yield f'<p class="note">{_CHART_NOTE}</p>'
    yield from _table(["Thema", "Fragen"], [[label, f.count(n)] for label, n in topics])
    yield "<h2>Häufigste Einträge</h2>"
    yield from _table(
        ["Eintrag", "Antworten", "👍", "👎"],
        [
            [_label(model, e.entry_id), f.count(e.questions), f.count(e.helpful),
             f.count(e.unhelpful)]
            for e in stats.entries[:TOP_ITEMS]
        ],
    )  # fmt: skip
    yield "<h2>Offene Fragen</h2>"
    yield (
        f"<p>Unbeantwortet, „Nichts davon“ gewählt oder mit 👎 bewertet: "
        f"{_e(f.number(model.gap_questions))} Fragen in {_e(f.number(model.gap_groups))} "
        "Gruppen ähnlicher Formulierungen.</p>"
    )
    if model.ignored_groups:
        yield (
            f'<p class="note">{_e(f.number(model.ignored_groups))} Gruppen als irrelevant '
            "ausgeblendet.</p>"
        )
    for item in model.gaps:
        yield from _gap(item)
    rest = model.gap_groups - len(model.gaps)
    if rest > 0:
        yield f"<p>… und {_e(f.number(rest))} weitere Gruppen.</p>"
    yield f'<p class="note">{_e(f.RATE_NOTE)}<br>{_e(f.SUPPRESSION_NOTE)}</p>'


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
                              outcomes.get("smalltalk", 0)),
            ]
        )  # fmt: skip
    header = ["Woche", "gesamt", *(f.OUTCOME_LABELS[o] for o in OUTCOMES), "Antwortquote"]
    yield from _table(header, rows)


def _gap(item: GapItem) -> Iterator[str]:
    group, advice = item.group, item.advice
    reasons = ", ".join(
        f"{label} {n}"
        for n, label in ((group.unknown, "unbeantwortet"), (group.gaps, "„Nichts davon“"),
                         (group.unhelpful, "👎"))
        if n
    )  # fmt: skip
    yield '<div class="gap">'
    yield (
        f"<h3>„{_e(group.representative)}“ – {group.count}×</h3>"
        f'<p>Gruppe <span class="gid">{_e(group.group_id)}</span> · {_e(reasons)}</p>'
    )
    if advice.entry_id:
        title = f" ({advice.entry_title})" if advice.entry_title else ""
        if advice.answered_now:
            title += " – wird inzwischen beantwortet"
        elif advice.weak:
            title += " – unsicher"
        yield f"<p>Nächster Eintrag: <b>{_e(advice.entry_id)}</b>{_e(title)}</p>"
    else:
        yield "<p>Kein passender Eintrag gefunden.</p>"
    if advice.answer_rated_down:
        yield "<p>Antworten wurden überwiegend mit 👎 bewertet – Antworttext prüfen.</p>"
    yield "<ul>"
    for text, n in group.texts[:_TEXTS_PER_GROUP]:
        suffix = f" ({n}×)" if n > 1 else ""
        yield f"<li>{_e(text)}{_e(suffix)}</li>"
    if len(group.texts) > _TEXTS_PER_GROUP:
        yield f"<li>… {len(group.texts) - _TEXTS_PER_GROUP} weitere Formulierungen</li>"
    yield "</ul>"
    yield f"<pre>{_e(advice.snippet)}</pre>"
    yield "</div>"


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
    title = model.title(item_id)
    return f"{title} ({item_id})" if title else item_id


def _e(value: object) -> str:
    return escape(str(value), quote=True)
