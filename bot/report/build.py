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

from bot.log import stats as logstats
from bot.log.gaps import group_questions, normalise, text_hash
from bot.report.advice import SearchLike
from bot.report.model import build_model
from bot.report.text import render_csv, render_gaps, render_summary, render_text

Format = Literal["text", "csv", "html"]
FORMATS: tuple[Format, ...] = ("text", "csv", "html")

MAX_GROUPS = 50
"""Groups listed in a full report; the rest are counted."""

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
) -> str:
    """German report as plain text, CSV (``;``-separated, UTF-8 with BOM) or one
    self-contained HTML page.

    ``ignored``: group ids hidden for this run, in addition to those stored with
    ``ignore_group``. ``titles``: entry/topic id -> title from the knowledge base.
    """
    if fmt not in FORMATS:
        raise ValueError(f"Unbekanntes Format {fmt!r}; möglich: {', '.join(FORMATS)}")
    model = build_model(
        Path(db_path), since, until, search_index, set(ignored), titles or {}, max_groups,
        today or date.today(),
    )  # fmt: skip
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
) -> tuple[str, bytes]:
    """/statistik: the summary text and the weekly chart (PNG) from one read of the log."""
    from bot.report.html import weekly_chart

    until = today or date.today()
    since = until - timedelta(days=max(1, days) - 1)
    model = build_model(Path(db_path), since, until, None, set(), titles or {}, 0, until)
    return render_summary(model, days), weekly_chart(model.weeks)


def gap_groups(
    db_path: Path,
    limit: int = 10,
    *,
    search_index: SearchLike | None = None,
    titles: Mapping[str, str] | None = None,
    today: date | None = None,
) -> tuple[str, list[tuple[str, str]]]:
    """/luecken: the text and (group id, representative wording) pairs for ignore buttons."""
    model = build_model(
        Path(db_path), None, None, search_index, set(), titles or {}, limit, today or date.today()
    )
    return render_gaps(model), [(i.group.group_id, i.group.representative) for i in model.gaps]


def export_csv(db_path: Path) -> str:
    """All daily counts and redacted questions still stored (``;``-separated, UTF-8 BOM);
    no pseudonyms, no question ids."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.DictWriter(
        buffer, fieldnames=logstats.EXPORT_COLUMNS, delimiter=";", lineterminator="\n"
    )
    writer.writeheader()
    for row in logstats.export_rows(Path(db_path)):
        writer.writerow(row)
    return buffer.getvalue()


def ignore_group(db_path: Path, group_id: str, *, today: date | None = None) -> int:
    """Hide a group of unanswered questions from future reports; returns the number of
    question wordings now ignored (0 if the group is unknown but the id is remembered)."""
    group_id = group_id.strip().lower()
    if not _GROUP_ID.fullmatch(group_id):
        raise ValueError(f"Ungültige Gruppen-ID {group_id!r} (erwartet: 10 Zeichen 0-9, a-f).")
    stats = logstats.read_stats(Path(db_path))
    hashes: set[str] = set()
    for group in group_questions(stats.problems):
        if group.group_id == group_id or group_id in group.member_hashes:
            hashes = set(group.member_hashes)
            break
    logstats.store_ignored(Path(db_path), group_id, hashes, today or date.today())
    return len(hashes)


def unignore_group(db_path: Path, group_id: str) -> int:
    """Show an ignored group again; returns the number of stored wordings removed."""
    return logstats.remove_ignored(Path(db_path), group_id.strip().lower())


def group_id_of(question: str) -> str:
    """Group id a question would get as the most frequent wording of its group."""
    return text_hash(normalise(question))
