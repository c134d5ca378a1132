"""Reports on the question log for the project team (CLI) and for Telegram commands.

Every function takes the database path and opens its own read connection, so reports can
run while the bot writes (WAL). On 100,000 logged questions they take 0.3–2 s, so call
them from a thread (``asyncio.to_thread``) inside the bot, not on the event loop. All
texts are plain (no markup): escape them before sending with an HTML parse mode.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from bot.knowledge.lexicon import Lexicon
from bot.knowledge.model import KnowledgeBase
from bot.log import stats as logstats
from bot.log.gaps import group_questions, normalise, text_hash
from bot.report import fmt as f
from bot.report.advice import SearchLike, gap_stop_words
from bot.report.model import ReportModel, build_model
from bot.report.text import (
    render_csv,
    render_gaps,
    render_next_steps,
    render_summary,
    render_text,
)

Format = Literal["text", "csv", "html"]
FORMATS: tuple[Format, ...] = ("text", "csv", "html")

MAX_GROUPS = 50
"""Groups listed in a full report; the rest are counted."""
CHANNELS: tuple[str, ...] = ("telegram", "terminal", "alle")
"""``--channel`` values; "alle" counts every channel together."""

_GROUP_ID = re.compile(r"[0-9a-f]{10}")


def build_report(
    db_path: Path,
    *,
    since: date | None = None,
    until: date | None = None,
    fmt: Format = "text",
    search_index: SearchLike | None = None,
    ignored: Iterable[str] = (),
    titles: Mapping[str, str] | None = None,
    max_groups: int = MAX_GROUPS,
    today: date | None = None,
    knowledge: KnowledgeBase | None = None,
    channel: str | None = "telegram",
) -> str:
    """German report as plain text, CSV (``;``-separated, UTF-8 with BOM) or one
    self-contained HTML page.

    ``ignored``: group ids hidden for this run, in addition to those stored with
    ``ignore_group``. ``knowledge``: today's knowledge base, for titles and topics (else
    ``titles``: id -> title). ``channel``: "telegram" (the employees, default), "terminal"
    or None/"alle" for everything; the other channels are counted separately.
    """
    if fmt not in FORMATS:
        raise ValueError(f"Unbekanntes Format {fmt!r}; möglich: {', '.join(FORMATS)}")
    model = report_model(
        db_path, since=since, until=until, search_index=search_index, ignored=ignored,
        titles=titles, max_groups=max_groups, today=today, knowledge=knowledge, channel=channel,
    )  # fmt: skip
    return render(model, fmt)


def report_model(
    db_path: Path,
    *,
    since: date | None = None,
    until: date | None = None,
    search_index: SearchLike | None = None,
    ignored: Iterable[str] = (),
    titles: Mapping[str, str] | None = None,
    max_groups: int = MAX_GROUPS,
    today: date | None = None,
    knowledge: KnowledgeBase | None = None,
    channel: str | None = "telegram",
    change: bool = True,
    lexicon: Lexicon | None = None,
) -> ReportModel:
    """The report's content, for callers that render it more than one way.

    ``lexicon``: the bot's search lexicon, whose stop words grouping ignores; without it the
    search index's, else the bundled language file's. Group ids depend on it.
    """
    channel = None if channel in (None, "alle") else channel
    if knowledge is not None:
        entry_titles = {e.id: e.title for e in knowledge.entries.values()}
        topic_titles: Mapping[str, str] | None = {t.id: t.title for t in knowledge.topics.values()}
        entry_topics = {e.id: e.topic for e in knowledge.entries.values() if e.topic}
    else:
        entry_titles, topic_titles, entry_topics = dict(titles or {}), None, {}
    return build_model(
        Path(db_path), since, until, search_index, set(ignored), entry_titles, max_groups,
        today or date.today(), channel=channel, topic_titles=topic_titles,
        entry_topics=entry_topics, change=change, lexicon=lexicon,
    )  # fmt: skip


def render(model: ReportModel, fmt: Format) -> str:
    """One model as text, CSV or HTML."""
    if fmt == "html":
        # Imported here: matplotlib takes longer to import than a text report takes to build.
        from bot.report.html import render_html

        return render_html(model)
    return render_csv(model) if fmt == "csv" else render_text(model)


def team_summary(
    db_path: Path,
    days: int = 30,
    *,
    titles: Mapping[str, str] | None = None,
    today: date | None = None,
    knowledge: KnowledgeBase | None = None,
    channel: str | None = "telegram",
    lexicon: Lexicon | None = None,
) -> tuple[str, bytes]:
    """/statistik: the summary text and the weekly chart (PNG) from one read of the log."""
    from bot.report.html import weekly_chart

    until = today or date.today()
    since = until - timedelta(days=max(1, days) - 1)
    model = report_model(
        db_path, since=since, until=until, titles=titles, max_groups=0, today=until,
        knowledge=knowledge, channel=channel, change=False, lexicon=lexicon,
    )  # fmt: skip
    return render_summary(model, days), weekly_chart(model.weeks)


def gap_groups(
    db_path: Path,
    limit: int = 10,
    *,
    search_index: SearchLike | None = None,
    titles: Mapping[str, str] | None = None,
    today: date | None = None,
    knowledge: KnowledgeBase | None = None,
    channel: str | None = "telegram",
) -> tuple[str, list[tuple[str, str]]]:
    """/luecken: the text and (group id, representative wording) pairs for ignore buttons.

    Plain text of any length: send it with ``bot.report.text.html_messages``.
    """
    model = report_model(
        db_path, search_index=search_index, titles=titles, max_groups=limit, today=today,
        knowledge=knowledge, channel=channel, change=False,
    )  # fmt: skip
    return render_gaps(model), [(i.group.group_id, i.group.representative) for i in model.gaps]


def first_screen_and_html(
    db_path: Path,
    *,
    search_index: SearchLike | None = None,
    knowledge: KnowledgeBase | None = None,
    today: date | None = None,
) -> tuple[str, str]:
    """/bericht: the first screen (plain text) and the full HTML report, from one model."""
    model = report_model(db_path, search_index=search_index, knowledge=knowledge, today=today)
    return render_next_steps(model), render(model, "html")


def weekly_summary(
    db_path: Path,
    *,
    search_index: SearchLike | None = None,
    knowledge: KnowledgeBase | None = None,
    today: date | None = None,
) -> tuple[str, str]:
    """The weekly message for the team (plain text: the last seven days and what to do
    next) and the full HTML report of those days, from one model."""
    until = (today or date.today()) - timedelta(days=1)
    model = report_model(
        db_path, since=until - timedelta(days=6), until=until, search_index=search_index,
        today=today, knowledge=knowledge,
    )  # fmt: skip
    return render_next_steps(
        model, heading=f"Wochenbericht {f.period(until - timedelta(days=6), until)}"
    ), render(model, "html")


def export_csv(db_path: Path) -> str:
    """All daily counts and redacted questions still stored (``;``-separated, UTF-8 BOM);
    no pseudonyms, no question ids. ``nachfrage`` names the kind of a follow-up about the
    last card (empty: a question of its own)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.DictWriter(
        buffer, fieldnames=logstats.EXPORT_COLUMNS, delimiter=";", lineterminator="\n"
    )
    writer.writeheader()
    for row in logstats.export_rows(Path(db_path)):
        outcome, followup = row["ergebnis"], row["nachfrage"]
        writer.writerow(
            {
                **row,
                "ergebnis": f.OUTCOME_VALUES.get(outcome, outcome),
                "nachfrage": f.FOLLOWUP_LABELS.get(followup, followup) if followup else None,
            }
        )
    return buffer.getvalue()


def ignore_group(
    db_path: Path, group_id: str, *, today: date | None = None, lexicon: Lexicon | None = None
) -> int:
    """Hide a group of unanswered questions from future reports; returns the number of
    question wordings now ignored (0 if the group is unknown but the id is remembered).
    ``lexicon``: the one the listed group ids were computed with (see ``report_model``)."""
    group_id = group_id.strip().lower()
    if not _GROUP_ID.fullmatch(group_id):
        raise ValueError(f"Ungültige Gruppen-ID {group_id!r} (erwartet: 10 Zeichen 0-9, a-f).")
    stats = logstats.read_stats(Path(db_path))
    hashes: set[str] = set()
    for group in group_questions(stats.problems, stop_words=gap_stop_words(lexicon)):
        if group.group_id == group_id or group_id in group.member_hashes:
            hashes = set(group.member_hashes)
            break
    logstats.store_ignored(Path(db_path), group_id, hashes, today or date.today())
    return len(hashes)


def unignore_group(db_path: Path, group_id: str) -> int:
    """Show an ignored group again; returns the number of stored wordings removed."""
    return logstats.remove_ignored(Path(db_path), group_id.strip().lower())


def group_id_of(question: str, *, lexicon: Lexicon | None = None) -> str:
    """Group id a question would get as the most frequent wording of its group."""
    return text_hash(normalise(question, stop_words=gap_stop_words(lexicon)))
