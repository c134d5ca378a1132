"""Benchmark: cost of QuestionLog.record() on the hot path and report time on a large log.

    python bench/log_report.py [--rows 100000] [--keep DIR]

Writes synthetic questions (templates × subjects, plus a long tail of rare wordings) into a
temporary database, then builds every report on it. ``record()`` only queues; the log's writer
thread commits whatever is queued in one transaction, so the per-row figure is the caller's cost
and the total includes the final ``close()`` (everything committed).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.log.writer import QuestionLog
from bot.report.build import build_report, export_csv, gap_groups, team_summary

SUBJECTS = (
    "Elternzeit", "Teilzeit", "Homeoffice", "Kita-Platz", "Pflege meiner Mutter", "Sabbatical",
    "Gleitzeit", "Notfallbetreuung", "Ferienbetreuung", "Jobticket", "Dienstfahrrad",
    "Fortbildung", "Mentoring", "Führung in Teilzeit", "Wiedereinstieg", "Betriebssport",
    "Kantine", "Parkplatz", "Dienstreise", "Überstunden", "Telearbeit", "Jobsharing",
)  # fmt: skip
TEMPLATES = (
    "Wie beantrage ich {}?", "Gibt es {} bei der Stadt?", "Wer ist zuständig für {}?",
    "Kann ich {} auch kurzfristig bekommen?", "Was muss ich bei {} beachten?", "{}",
    "Infos zu {} bitte", "Habe ich Anspruch auf {}?", "Wo finde ich das Formular für {}?",
)  # fmt: skip
TAIL = (
    "Antrag Frist Vertretung Urlaub Krankheit Kinder Schule Schicht Wochenende Feiertag "
    "Abteilung Bezirk Team Kollegin Vorgesetzte Zeiterfassung Kernzeit Arbeitszeitkonto Zuschuss "
    "Beratung Coaching Tandem Demenz Pflegegrad Tagesmutter Auszeit Rente Vollzeit Ausbildung "
    "Studium Praktikum Hund Fahrrad Dusche Stillraum Eltern-Kind-Büro Laptop Diensthandy Schlüssel "
    "Ruheraum Betriebsrat Personalrat Gleichstellung Inklusion Schwerbehinderung Umzug Wohnung "
    "Kur Reha Impfung Sport Yoga Massage Gesundheitstag Sommerfest Bibliothek Sprachkurs"
).split()
OUTCOMES = ("answered", "answered", "answered", "ambiguous", "unknown", "smalltalk")


def question(rnd: random.Random) -> str:
    if rnd.random() < 0.7:
        return rnd.choice(TEMPLATES).format(rnd.choice(SUBJECTS))
    return " ".join(rnd.sample(TAIL, rnd.randint(2, 6))) + "?"


def fill(path: Path, rows: int) -> list[int]:
    """Write ``rows`` questions over 90 days; returns per-call latencies in ns."""
    rnd = random.Random(1)
    day = [date(2025, 1, 6)]
    # A tight loop outpaces any writer; a queue as long as the run keeps every row.
    log = QuestionLog(path, b"b" * 32, today=lambda: day[0], max_pending=rows)
    latencies = []
    for i in range(rows):
        day[0] = date(2025, 1, 6) + timedelta(days=i * 90 // rows)
        outcome = rnd.choice(OUTCOMES)
        text = question(rnd)
        started = time.perf_counter_ns()
        qid = log.record(
            question=text, outcome=outcome, entry_id=f"e{rnd.randint(1, 40)}",
            topic=f"t{rnd.randint(1, 8)}", score=rnd.random(), kb_version="v1",
            channel="telegram", user_id=rnd.randint(1, 3000),
        )  # fmt: skip
        latencies.append(time.perf_counter_ns() - started)
        if outcome == "ambiguous":
            log.choice(qid, None if rnd.random() < 0.4 else f"e{rnd.randint(1, 40)}")
        elif rnd.random() < 0.15:
            log.feedback(qid, rnd.random() < 0.75)
    started = time.perf_counter_ns()
    log.close()
    latencies[-1] += time.perf_counter_ns() - started
    if log.dropped:
        print(f"  WARNUNG: {log.dropped} Zeilen verworfen")
    return latencies


def describe(label: str, latencies: list[int]) -> None:
    total_s = sum(latencies) / 1e9
    ordered = sorted(latencies)
    p99 = ordered[int(len(ordered) * 0.99)] / 1000
    print(
        f"  {label:<32} {len(latencies) / total_s:>9,.0f} Zeilen/s   "
        f"{statistics.mean(latencies) / 1000:6.1f} µs/record   "
        f"p99 {p99:6.1f} µs   max {ordered[-1] / 1000:8.1f} µs".replace(",", ".")
    )


def timed(label: str, action: Callable[[], object]) -> None:
    started = time.perf_counter()
    result = action()
    size = len(result) if isinstance(result, str | bytes) else 0
    print(f"  {label:<32} {time.perf_counter() - started:6.2f} s   ({size:,} Zeichen)".replace(
        ",", "."))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="Datenbank hier anlegen und behalten")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        folder = args.keep or Path(temp)
        folder.mkdir(parents=True, exist_ok=True)
        direct = folder / "direkt.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(direct) + suffix).unlink(missing_ok=True)
        print(f"record() mit {args.rows:,} Zeilen".replace(",", "."))
        describe("Schreib-Thread (Standard)", fill(direct, args.rows))
        size = sum(p.stat().st_size for p in folder.glob("direkt.db*")) / 1e6
        print(f"  Dateigröße: {size:.1f} MB")
        print(f"Berichte auf {args.rows:,} Zeilen".replace(",", "."))
        for fmt in ("text", "csv", "html"):
            timed(f"build_report({fmt})", lambda f=fmt: build_report(direct, fmt=f))
        timed("team_summary(30 Tage)", lambda: team_summary(direct, today=date(2025, 4, 5))[0])
        timed("gap_groups(10)", lambda: gap_groups(direct)[0])
        timed("export_csv", lambda: export_csv(direct))


if __name__ == "__main__":
    main()
