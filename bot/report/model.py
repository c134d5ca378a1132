"""The content of a report, computed once and shared by the text, CSV and HTML renderers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from bot.log import stats as logstats
from bot.log.gaps import GapGroup, group_questions
from bot.log.stats import LogStats
from bot.report.advice import Advice, SearchLike, advise
from bot.report.fmt import week_key

_MAX_WEEKS = 520


@dataclass(frozen=True, slots=True)
class WeekCounts:
    key: str
    outcomes: dict[str, int]
    chosen: int

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


@dataclass(frozen=True, slots=True)
class GapItem:
    group: GapGroup
    advice: Advice


@dataclass(frozen=True)
class ReportModel:
    """Everything a renderer shows; computed once, rendered as text, CSV or HTML."""

    stats: LogStats
    created: date
    weeks: tuple[WeekCounts, ...]
    gaps: tuple[GapItem, ...]
    gap_groups: int
    gap_questions: int
    ignored_groups: int
    titles: Mapping[str, str] = field(default_factory=dict)

    def title(self, item_id: str) -> str:
        return self.titles.get(item_id, "")


def build_model(
    db_path: Path,
    since: date | None,
    until: date | None,
    search_index: SearchLike | None,
    ignored: set[str],
    titles: Mapping[str, str],
    max_groups: int,
    today: date,
) -> ReportModel:
    stats = logstats.read_stats(db_path, since=since, until=until)
    hidden = ignored | logstats.read_ignored(db_path)
    visible: list[GapGroup] = []
    ignored_count = 0
    for group in group_questions(stats.problems):
        if group.is_ignored(hidden):
            ignored_count += 1
        else:
            visible.append(group)
    gaps = tuple(GapItem(g, advise(g, search_index, titles)) for g in visible[:max_groups])
    return ReportModel(
        stats=stats,
        created=today,
        weeks=_weeks(stats, since, until),
        gaps=gaps,
        gap_groups=len(visible),
        gap_questions=sum(g.count for g in visible),
        ignored_groups=ignored_count,
        titles=titles,
    )


def _weeks(stats: LogStats, since: date | None, until: date | None) -> tuple[WeekCounts, ...]:
    """Counts per ISO week, including empty weeks inside the period (honest charts)."""
    if not stats.daily:
        return ()
    first = since or min(stats.daily)
    last = until or max(stats.daily)
    first = max(first, last - timedelta(weeks=_MAX_WEEKS))
    weeks: dict[str, WeekCounts] = {}
    current = first - timedelta(days=first.weekday())
    while current <= last:
        key = week_key(current)
        weeks[key] = WeekCounts(key, {}, 0)
        current += timedelta(weeks=1)
    for day, counts in stats.daily.items():
        week = weeks.get(week_key(day))
        if week is None:
            continue
        for outcome, n in counts.items():
            week.outcomes[outcome] = week.outcomes.get(outcome, 0) + n
        weeks[week.key] = WeekCounts(
            week.key, week.outcomes, week.chosen + stats.daily_chosen.get(day, 0)
        )
    return tuple(weeks[key] for key in sorted(weeks))
