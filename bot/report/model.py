"""The content of a report, computed once and shared by the text, CSV and HTML renderers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from bot.knowledge.lexicon import Lexicon
from bot.log import stats as logstats
from bot.log.gaps import GapGroup, group_questions
from bot.log.schema import CONVERSATIONAL, FOLLOWUPS
from bot.log.stats import EntryStats, LogStats
from bot.log.tickets import TicketCounts, read_ticket_counts
from bot.report.advice import (
    Advice,
    SearchLike,
    Vocabulary,
    advise,
    followup_action,
    gap_stop_words,
)
from bot.report.fmt import week_key

_MAX_WEEKS = 520
NEXT_STEPS = 3
"""Gaps named on the report's first screen."""
ADVISED = 200
"""Groups (most people first) searched again for advice; beyond them a report of a big log
would spend minutes re-running questions nobody reads. The rest count as open."""
CHANGE_DAYS = 7
"""'Seit der Vorwoche' compares the last this many days with the same span before."""


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


@dataclass(frozen=True, slots=True)
class Span:
    """Key figures of a few days, for 'what changed'."""

    first: date
    last: date
    questions: int
    answered: int
    smalltalk: int  # and requests for a person: what asked the knowledge base nothing

    @property
    def rate_base(self) -> int:
        return self.questions - self.smalltalk


@dataclass(frozen=True, slots=True)
class Change:
    """The last days against the same span before, and the gaps that appeared meanwhile."""

    now: Span
    before: Span
    new_gaps: int


@dataclass(frozen=True, slots=True)
class OffTopicItem:
    """Off-topic questions of one ``suche.yaml`` subject: nothing to add, only to know."""

    subject: str
    redirect: str
    count: int
    people: int
    texts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FollowupKind:
    """Follow-ups of one kind in the period, and how many the knowledge base left open."""

    kind: str
    questions: int
    unanswered: int


@dataclass(frozen=True, slots=True)
class FollowupGap:
    """Follow-ups of one kind about one entry that its source could not answer: a gap of
    that entry's content (the contact, the status, the target group), not a missing entry."""

    entry_id: str
    kind: str
    questions: int

    @property
    def action(self) -> str:
        return followup_action(self.kind)


@dataclass(frozen=True)
class ReportModel:
    """Everything a renderer shows; computed once, rendered as text, CSV or HTML.

    ``gaps`` are the open groups, most people first; ``done`` those today's knowledge base
    answers; ``off_topic`` the questions ``suche.yaml`` redirects elsewhere.
    """

    stats: LogStats
    created: date
    weeks: tuple[WeekCounts, ...]
    gaps: tuple[GapItem, ...]
    gap_groups: int
    gap_questions: int
    ignored_groups: int
    titles: Mapping[str, str] = field(default_factory=dict)
    topic_titles: Mapping[str, str] | None = None
    done: tuple[GapItem, ...] = ()
    off_topic: tuple[OffTopicItem, ...] = ()
    change: Change | None = None
    entry_topics: Mapping[str, str] = field(default_factory=dict)
    tickets: TicketCounts | None = None
    """Requests to the counselling office in the period (None: not in this channel)."""

    @property
    def followup_kinds(self) -> tuple[FollowupKind, ...]:
        """Every kind in FOLLOWUPS order, with zeros, so tables keep their shape."""
        asked = dict.fromkeys(FOLLOWUPS, 0)
        open_ = dict.fromkeys(FOLLOWUPS, 0)
        for row in self.stats.followups:
            asked[row.kind] = asked.get(row.kind, 0) + row.questions
            if row.outcome == "unknown":
                open_[row.kind] = open_.get(row.kind, 0) + row.questions
        return tuple(FollowupKind(k, asked[k], open_.get(k, 0)) for k in asked)

    @property
    def followups(self) -> int:
        return sum(row.questions for row in self.stats.followups)

    @property
    def followups_unanswered(self) -> int:
        return sum(row.questions for row in self.stats.followups if row.outcome == "unknown")

    @property
    def followup_gaps(self) -> tuple[FollowupGap, ...]:
        """Unanswered follow-ups per entry and kind, most frequent first."""
        counts: dict[tuple[str, str], int] = {}
        for row in self.stats.followups:
            if row.outcome == "unknown" and row.entry_id:
                key = (row.entry_id, row.kind)
                counts[key] = counts.get(key, 0) + row.questions
        gaps = [FollowupGap(entry, kind, n) for (entry, kind), n in counts.items()]
        return tuple(sorted(gaps, key=lambda g: (-g.questions, g.entry_id, g.kind)))

    def title(self, item_id: str) -> str:
        """An entry's title ('' if unknown)."""
        return self.titles.get(item_id, "")

    def topic_title(self, topic_id: str) -> str:
        """A topic's title: from the topics alone when known, so a contact with the same id
        as a topic never lends it its name."""
        if self.topic_titles is not None:
            return self.topic_titles.get(topic_id, "")
        return self.titles.get(topic_id, "")

    @property
    def next_steps(self) -> tuple[GapItem, ...]:
        return self.gaps[:NEXT_STEPS]

    @property
    def most_rated_down(self) -> tuple[EntryStats, ...]:
        """Entries with the most 👎, at most three."""
        down = sorted(
            (e for e in self.stats.entries if e.unhelpful),
            key=lambda e: (-e.unhelpful, -e.questions, e.entry_id),
        )
        return tuple(down[:NEXT_STEPS])

    @property
    def topics(self) -> tuple[tuple[str, int], ...]:
        """Answered questions per topic; with the knowledge base's entry → topic map, a
        picked entry counts for its own topic, not for the nearest entry's."""
        if not self.entry_topics:
            return self.stats.topics
        counts: dict[str, int] = {}
        for entry in self.stats.entries:
            topic = self.entry_topics.get(entry.entry_id)
            if topic:
                counts[topic] = counts.get(topic, 0) + entry.questions
        return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def build_model(
    db_path: Path,
    since: date | None,
    until: date | None,
    search_index: SearchLike | None,
    ignored: set[str],
    titles: Mapping[str, str],
    max_groups: int,
    today: date,
    *,
    channel: str | None = logstats.DAILY_CHANNEL,
    topic_titles: Mapping[str, str] | None = None,
    entry_topics: Mapping[str, str] | None = None,
    change: bool = True,
    lexicon: Lexicon | None = None,
) -> ReportModel:
    """``lexicon``: whose stop words grouping ignores; else the search index's, else the
    bundled language file's (``gap_stop_words``)."""
    stats = logstats.read_stats(db_path, since=since, until=until, channel=channel)
    hidden = ignored | logstats.read_ignored(db_path)
    terms = getattr(search_index, "terms", None)
    known = set(titles) | set(entry_topics or ())
    open_items: list[GapItem] = []
    done: list[GapItem] = []
    off_topic: list[GapItem] = []
    ignored_count = 0
    stop_words = gap_stop_words(lexicon or getattr(search_index, "lexicon", None))
    vocabulary = Vocabulary(search_index, stop_words=stop_words)
    advised = max(ADVISED, 2 * max_groups)
    groups = group_questions(
        stats.problems, terms=terms if callable(terms) else None, stop_words=stop_words
    )
    for group in groups:
        if group.is_ignored(hidden):
            ignored_count += 1
            continue
        if advised <= 0:
            open_items.append(GapItem(group, Advice("neu")))
            continue
        advised -= 1
        advice = advise(group, search_index, titles, known_ids=known, vocabulary=vocabulary)
        item = GapItem(group, advice)
        {"erledigt": done, "themenfremd": off_topic}.get(advice.action, open_items).append(item)
    return ReportModel(
        stats=stats,
        created=today,
        weeks=_weeks(stats, since, until),
        gaps=tuple(open_items[:max_groups]),
        gap_groups=len(open_items),
        gap_questions=sum(i.group.count for i in open_items),
        ignored_groups=ignored_count,
        titles=titles,
        topic_titles=topic_titles,
        done=tuple(done),
        off_topic=_off_topic(off_topic),
        change=_change(db_path, stats, until, channel, open_items) if change else None,
        entry_topics=entry_topics or {},
        # Requests go to the counselling office from Telegram only.
        tickets=read_ticket_counts(db_path, since=since, until=until)
        if channel in (None, logstats.DAILY_CHANNEL)
        else None,
    )


def _off_topic(items: list[GapItem]) -> tuple[OffTopicItem, ...]:
    by_subject: dict[str, list[GapItem]] = {}
    for item in items:
        by_subject.setdefault(item.advice.subject or "", []).append(item)
    found = [
        OffTopicItem(
            subject,
            group[0].advice.redirect or "",
            sum(i.group.count for i in group),
            sum(i.group.people for i in group),
            tuple(i.group.representative for i in group),
        )
        for subject, group in by_subject.items()
    ]
    return tuple(sorted(found, key=lambda o: (-o.people, -o.count, o.subject)))


def _change(
    db_path: Path,
    stats: LogStats,
    until: date | None,
    channel: str | None,
    open_items: list[GapItem],
) -> Change | None:
    """The last CHANGE_DAYS days of the period against the same span before it."""
    if not stats.daily:
        return None
    last = until or max(stats.daily)
    first = last - timedelta(days=CHANGE_DAYS - 1)
    spans = logstats.read_stats(
        db_path, since=first - timedelta(days=CHANGE_DAYS), until=last, channel=channel
    )
    now = _span(spans, first, last)
    before = _span(spans, first - timedelta(days=CHANGE_DAYS), first - timedelta(days=1))
    new = sum(1 for i in open_items if i.group.first_day is not None and i.group.first_day >= first)
    return Change(now, before, new)


def _span(stats: LogStats, first: date, last: date) -> Span:
    questions = answered = smalltalk = 0
    for day, counts in stats.daily.items():
        if first <= day <= last:
            questions += sum(counts.values())
            answered += counts.get("answered", 0) + stats.daily_chosen.get(day, 0)
            smalltalk += sum(counts.get(o, 0) for o in CONVERSATIONAL)
    return Span(first, last, questions, answered, smalltalk)


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
