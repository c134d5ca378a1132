"""``python -m bot status``: red whenever the bot is not serving or is losing data.

Every judgement rests on something the bot cannot fake by merely being alive: the heartbeat's
age and its own account of polling, maintenance and the question log; whether a process holds
the database lock; and, read from the files themselves, the durable loss counts
(``bot.log.health.read_losses``), ``PRAGMA quick_check`` and the knowledge folder. Losses stay
red until an operator acknowledges them (``status --quittieren``), so a restart cannot hide one.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from bot.config import Settings
from bot.knowledge.lexicon import load_lexicon
from bot.knowledge.schema import Problem, validate
from bot.log import health as loghealth
from bot.runtime.ops import (
    HEARTBEAT_SECONDS,
    PRIVATE,
    heartbeat_path,
    heartbeat_state,
    lock_held,
)

STALE_BEATS: Final = 5
"""The heartbeat is late after this many intervals (at least ``STALE_MIN_S``)."""
STALE_MIN_S: Final = 10.0
POLL_STALE_S: Final = 60.0
"""No successful getUpdates for this long (a long poll lasts 10 s)."""
POLL_FAILURES: Final = 3
CONFLICT_RECENT_S: Final = 60.0
MAINTENANCE_STALE_S: Final = 60.0
PENDING_LIMIT: Final = 1000


@dataclass
class Status:
    """What ``status`` prints (German lines), the problems (red), and the same as data."""

    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> str:
        return json.dumps(
            {"ok": self.ok, "problems": self.problems, **self.data}, ensure_ascii=False, indent=2
        )


def acknowledged_path(database: Path) -> Path:
    target = database.resolve()
    return target.with_name(target.name + ".quittiert.json")


def read_acknowledged(database: Path) -> loghealth.Losses:
    try:
        data = json.loads(acknowledged_path(database).read_text(encoding="ascii"))
    except (OSError, ValueError):
        return loghealth.Losses()
    if not isinstance(data, dict):
        return loghealth.Losses()

    def number(key: str) -> int:
        value = data.get(key)
        return value if isinstance(value, int) and value > 0 else 0

    return loghealth.Losses(number("dropped_rows"), number("vanished_rows"), number("recreated"))


def acknowledge(database: Path) -> loghealth.Losses:
    """Record the current loss counts as seen; ``status`` is red only for losses after them."""
    losses = loghealth.read_losses(database.resolve())
    path = acknowledged_path(database)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
    try:
        os.fchmod(fd, PRIVATE)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            json.dump(
                {
                    "dropped_rows": losses.dropped_rows,
                    "vanished_rows": losses.vanished_rows,
                    "recreated": losses.recreated,
                    "acknowledged_at": int(time.time()),
                },
                handle,
            )
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return losses


def assess(settings: Settings, *, now: float | None = None) -> Status:
    """The whole status; reads files only and never changes them."""
    now = time.time() if now is None else now
    status = Status()
    database = settings.database
    running = lock_held(database)  # before SQLite opens the file in this process
    beat, beat_problem = heartbeat_state(database)
    _knowledge(settings, status)
    serving = _bot(settings, status, beat, beat_problem, running, now)
    _database(settings, status, serving=serving, beat=beat)
    return status


def _knowledge(settings: Settings, status: Status) -> None:
    """The folder as the bot would load it (validation and search lexicon; the index itself is
    not built, which keeps the check quick)."""
    directory = settings.knowledge_dir
    problems: list[Problem] = []
    kb = None
    try:
        kb, problems = validate(directory)
        lexicon, lexicon_problems = load_lexicon(directory)
        problems = [*problems, *lexicon_problems]
        if lexicon is None:
            kb = None
    except Exception as exc:  # never a traceback in a monitoring check
        kb = None
        status.problems.append(f"Wissensbasis {directory} nicht lesbar ({type(exc).__name__})")
    info: dict[str, Any] = {"dir": str(directory), "ok": kb is not None}
    if kb is None:
        errors = [str(p) for p in problems if p.severity == "fehler"]
        status.problems.extend(errors)
        status.lines.append(f"Wissensbasis: {directory} – FEHLERHAFT")
        info["errors"] = errors
    else:
        status.lines.append(
            f"Wissensbasis: {directory} – {kb.organisation.name}, "
            f"{len(kb.entries)} Einträge, Version {kb.version}"
        )
        info.update(organisation=kb.organisation.name, entries=len(kb.entries), version=kb.version)
    status.data["knowledge"] = info


def _age(value: object, now: float) -> float | None:
    return now - float(value) if isinstance(value, int | float) else None


def _clock(value: object) -> str:
    if not isinstance(value, int | float):
        return "noch nie"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(value)))


def _bot(
    settings: Settings,
    status: Status,
    beat: dict[str, object] | None,
    beat_problem: str | None,
    running: bool | None,
    now: float,
) -> bool:
    """Judge the heartbeat; returns whether a bot is up (for the database checks)."""
    problems = status.problems
    age = _age(beat.get("written_at"), now) if beat else None
    status.data["bot"] = {
        "running": running,
        "heartbeat": beat,
        "heartbeat_age": age,
        "heartbeat_problem": beat_problem,
    }
    name = heartbeat_path(settings.database).name
    if beat is None:
        if running:
            problems.append(
                f"Der Bot läuft (die Datenbank ist gesperrt), aber sein Lebenszeichen {name} "
                f"{beat_problem}: er kann es nicht schreiben (Platte voll, keine Rechte?)"
            )
            status.lines.append("Bot: läuft, ohne Lebenszeichen")
            return True
        problems.append("Bot läuft nicht: kein Lebenszeichen (noch nie gestartet?)")
        status.lines.append("Bot: kein Lebenszeichen (läuft nicht oder noch nie gestartet)")
        return False
    status.lines.append(
        f"Bot: Lebenszeichen vor {age or 0:.0f} s, {beat.get('updates_handled', 0)} Updates "
        f"verarbeitet, letztes Update: {_clock(beat.get('last_update_at'))}"
    )
    if beat.get("stopped"):
        if running:
            return True  # a new start has not written its first heartbeat yet
        problems.append(
            f"Bot läuft nicht: beendet am {_clock(beat.get('stopped_at'))} "
            f"({beat.get('stop_reason') or 'ohne Angabe'})"
        )
        _log_state(status, beat)
        return False
    interval = beat.get("interval")
    interval = float(interval) if isinstance(interval, int | float) else HEARTBEAT_SECONDS
    stale_after = max(STALE_BEATS * interval, STALE_MIN_S)
    if running is False:
        problems.append(
            f"Bot läuft nicht mehr: letztes Lebenszeichen vor {age or 0:.0f} s, ohne "
            "ordentliches Ende (abgestürzt oder mit kill -9 beendet?)"
        )
        _log_state(status, beat)
        return False
    if age is None or age > stale_after:
        problems.append(
            f"Letztes Lebenszeichen vor {age or 0:.0f} s (erwartet alle {interval:.0f} s): der "
            "Bot hängt oder kann sein Lebenszeichen nicht schreiben (Platte voll?)"
        )
    if beat.get("fatal"):
        problems.append(f"Der Bot beendet sich: {beat['fatal']}")
    if beat.get("mode", "polling") == "polling":
        _polling(status, beat, now)
    since = _age(beat.get("maintenance_since"), now)
    if since is not None and since > MAINTENANCE_STALE_S:
        problems.append(
            f"Wartung hängt seit {since:.0f} s (Neuladen der Wissensbasis, Aufbewahrungsfrist "
            "oder Schreiben des Protokolls)"
        )
    last_round = _age(beat.get("maintained_at"), now)
    started = _age(beat.get("started_at"), now)
    if since is None and (last_round or started or 0) > MAINTENANCE_STALE_S + stale_after:
        problems.append(f"Wartung seit {last_round or started or 0:.0f} s nicht mehr gelaufen")
    kb_errors = beat.get("knowledge_errors")
    if isinstance(kb_errors, list) and kb_errors:
        problems.append(
            "Der laufende Bot fand die Wissensbasis fehlerhaft (es antwortet die letzte "
            f"gültige Version): {kb_errors[0]}"
        )
    _log_state(status, beat)
    return True


def _polling(status: Status, beat: dict[str, object], now: float) -> None:
    problems = status.problems
    failures = beat.get("poll_failures")
    if isinstance(failures, int) and failures >= POLL_FAILURES:
        problems.append(
            f"Telegram nicht erreichbar: {failures} Abfragen nacheinander gescheitert "
            f"({beat.get('poll_error') or 'unbekannt'})"
        )
    polled = _age(beat.get("polled_at"), now)
    started = _age(beat.get("started_at"), now)
    if polled is None and (started or 0) > POLL_STALE_S:
        problems.append("Noch keine erfolgreiche Abfrage bei Telegram seit dem Start")
    elif polled is not None and polled > POLL_STALE_S:
        problems.append(f"Letzte erfolgreiche Abfrage bei Telegram vor {polled:.0f} s")
    conflict = _age(beat.get("conflict_at"), now)
    if conflict is not None and conflict <= CONFLICT_RECENT_S:
        problems.append(
            f"409 Conflict vor {conflict:.0f} s: ein anderer Prozess fragt mit diesem Token "
            "Nachrichten ab (zweite Instanz?)"
        )
    if beat.get("token_rejected"):
        problems.append("Telegram lehnt das Token ab (TELEGRAM_BOT_TOKEN prüfen)")


def _log_state(status: Status, beat: dict[str, object]) -> None:
    """The question log as the bot saw it last."""
    problems = status.problems
    if beat.get("log_available") is False:
        problems.append("Frageprotokoll nicht verfügbar")
    if beat.get("log_writable") is False:
        problems.append(
            f"Frageprotokoll nicht beschreibbar ({beat.get('log_error') or 'unbekannt'}); "
            f"{beat.get('log_pending', 0)} Einträge warten im Speicher"
        )
    pending = beat.get("log_pending")
    if isinstance(pending, int) and pending > PENDING_LIMIT:
        problems.append(f"{pending} Einträge warten darauf, ins Frageprotokoll zu kommen")


def _database(
    settings: Settings, status: Status, *, serving: bool, beat: dict[str, object] | None
) -> None:
    database = settings.database
    info: dict[str, Any] = {"path": str(database), "exists": database.exists()}
    status.data["database"] = info
    if not database.exists():
        logging_bot = serving and settings.question_log and (beat or {}).get("log_available")
        if logging_bot:
            status.problems.append(
                f"Datenbank {database} fehlt, obwohl der Bot läuft (im laufenden Betrieb gelöscht?)"
            )
            status.lines.append(f"Datenbank: {database} – FEHLT")
        else:
            status.lines.append(f"Datenbank: {database} – noch nicht angelegt")
        _losses(settings, status, beat)
        return
    try:
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=2)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            counts = {
                t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] if t in tables else 0
                for t in ("questions", "daily_counts")
            }
        finally:
            conn.close()
    except sqlite3.Error as exc:
        status.problems.append(f"Datenbank {database} nicht lesbar: {exc}")
        status.lines.append(f"Datenbank: {database} – NICHT LESBAR")
        return
    info.update(questions=counts["questions"], daily_counts=counts["daily_counts"])
    findings = loghealth.quick_check(database)
    info["quick_check"] = findings or "ok"
    if findings:
        status.problems.append(
            f"Datenbank {database} beschädigt (PRAGMA quick_check: {findings[0]}"
            + (f" und {len(findings) - 1} weitere Befunde" if len(findings) > 1 else "")
            + "); letzte Sicherung prüfen"
        )
    status.lines.append(
        f"Datenbank: {database} – {counts['questions']} Fragen mit Text, "
        f"{counts['daily_counts']} Tageszählungen" + ("" if not findings else " – BESCHÄDIGT")
    )
    _losses(settings, status, beat)


def _losses(settings: Settings, status: Status, beat: dict[str, object] | None) -> None:
    """Durable counts (log_meta and the side file) beyond what an operator acknowledged."""
    losses = loghealth.read_losses(settings.database.resolve())
    seen = read_acknowledged(settings.database)
    dropped = max(losses.dropped_rows - seen.dropped_rows, 0)
    vanished = max(losses.vanished_rows - seen.vanished_rows, 0)
    recreated = max(losses.recreated - seen.recreated, 0)
    status.data.setdefault("database", {})["losses"] = {
        "dropped_rows": losses.dropped_rows,
        "vanished_rows": losses.vanished_rows,
        "recreated": losses.recreated,
        "lost_at": losses.lost_at,
        "acknowledged": {
            "dropped_rows": seen.dropped_rows,
            "vanished_rows": seen.vanished_rows,
            "recreated": seen.recreated,
        },
    }
    in_run = (beat or {}).get("log_dropped")
    if isinstance(in_run, int) and in_run > losses.dropped_rows:
        dropped += in_run - losses.dropped_rows  # counted by the bot, not yet written down
    parts = []
    if dropped:
        parts.append(f"{dropped} Fragen konnten nicht protokolliert werden")
    if vanished:
        parts.append(f"{vanished} Fragen gingen mit einer gelöschten Datenbank verloren")
    if recreated:
        parts.append(f"die Datenbank wurde {recreated}× im laufenden Betrieb neu angelegt")
    if parts:
        when = f", zuletzt am {_clock(losses.lost_at)}" if losses.lost_at else ""
        status.problems.append(
            "; ".join(parts)
            + f"{when} (nach Klärung bestätigen: python -m bot status --quittieren)"
        )
