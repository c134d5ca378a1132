"""Helpers for the operations fault tests: processes with a umask or without root's powers over
file permissions, `status` read from the real files, and the scan that no log line carries
message text or identifiers.

Imported by the fault test modules; ``scan_logs`` is an autouse fixture there.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import logging
import os
import re
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Self

import pytest
from fakebotapi import FakeBotApi
from harness import START_TIMEOUT, WAIT, BotProcess, bot_env

from bot.config import DEFAULT_KB, PROJECT_ROOT, Settings
from bot.runtime.delivery import PrivacyFilter
from bot.runtime.monitor import Status, assess

_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


def without_root_powers() -> None:
    """``preexec_fn``: file permissions bind this process even when it runs as root (the
    test machine's user): the capabilities that override them leave its bounding set."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def umask_000() -> None:
    """``preexec_fn``: the most careless umask an operator could set."""
    os.umask(0)


class PlainProcess(BotProcess):
    """`python -m bot run` with a ``preexec_fn`` (umask, dropped capabilities)."""

    def __init__(self, *args: Any, preexec: Callable[[], None] | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.preexec = preexec

    async def start(self) -> Self:
        with (
            (self.workdir / "stdout.txt").open("wb") as out,
            (self.workdir / "stderr.txt").open("wb") as err,
        ):
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", *self.args,
                cwd=self.workdir, env=self.env, stdin=asyncio.subprocess.DEVNULL,
                stdout=out, stderr=err, preexec_fn=self.preexec,
            )  # fmt: skip
        return self


class StartPlain(Protocol):
    def __call__(
        self,
        name: str = "bot",
        *,
        database: Path | None = None,
        env: dict[str, str] | None = None,
        preexec: Callable[[], None] | None = None,
    ) -> Any: ...


@pytest.fixture
async def start_plain(fake_api: FakeBotApi, tmp_path: Path) -> AsyncIterator[StartPlain]:
    """Like ``start_process``, with a ``preexec`` hook; killed at teardown if still up."""
    started: list[PlainProcess] = []

    async def start(
        name: str = "bot",
        *,
        database: Path | None = None,
        env: dict[str, str] | None = None,
        preexec: Callable[[], None] | None = None,
    ) -> PlainProcess:
        process = PlainProcess(
            fake_api, tmp_path / name, database or tmp_path / "fragen.db", env=env, preexec=preexec
        )
        started.append(process)
        return await process.start()

    yield start
    for process in started:
        await process.kill()


# --- status -----------------------------------------------------------------------------------


async def status_of(database: Path, kb: Path = DEFAULT_KB) -> Status:
    """``python -m bot status`` as a function, off the event loop (the fake server runs on it)."""
    return await asyncio.to_thread(assess, Settings(knowledge_dir=kb, database=database))


async def until_status(
    database: Path, pattern: str, kb: Path = DEFAULT_KB, *, present: bool = True
) -> Status:
    """Until a problem matching ``pattern`` is reported (or, ``present=False``, none is)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while True:
        status = await status_of(database, kb)
        found = any(re.search(pattern, p) for p in status.problems)
        if found == present:
            return status
        if loop.time() > deadline:
            raise TimeoutError(f"status never {'showed' if present else 'lost'} {pattern!r}: "
                               f"{status.problems}")  # fmt: skip
        await asyncio.sleep(0.2)


async def until_cli_status(
    api: FakeBotApi, database: Path, pattern: str, *, cwd: Path
) -> CliResult:
    """``until_status`` through a real `python -m bot status` process: needed while the test
    itself holds SQLite locks on the database (the status' lock probe, in this process, would
    drop them: closing any descriptor of a file ends the process's POSIX locks on it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while True:
        result = await run_cli(api, database, "status", cwd=cwd)
        if re.search(pattern, result.stderr):
            return result
        if loop.time() > deadline:
            raise TimeoutError(f"status never showed {pattern!r}: {result.stderr}")
        await asyncio.sleep(0.2)


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        data = json.loads(self.stdout)
        assert isinstance(data, dict)
        return data


async def run_cli(
    api: FakeBotApi,
    database: Path,
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    preexec: Callable[[], None] | None = None,
) -> CliResult:
    """A real `python -m bot …` (status, backup) with the bot's environment."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        cwd=cwd, env={**bot_env(api, database), **(env or {})},
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, preexec_fn=preexec,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), START_TIMEOUT)
    assert proc.returncode is not None
    return CliResult(proc.returncode, out.decode(), err.decode())


# --- no message text or identifiers in any log ------------------------------------------------

_STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ", re.MULTILINE)
_WORD = re.compile(r"[^\W\d_]")


def private_data(api: FakeBotApi) -> tuple[set[int], set[str]]:
    """Identifiers (numbers) and texts (names, usernames, messages) of every update the bot
    received: what no log line may carry."""
    numbers: set[int] = set()
    texts: set[str] = set()

    def visit(value: object, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                visit(v, k)
        elif isinstance(value, list):
            for item in value:
                visit(item, key)
        elif key == "id" and isinstance(value, int) and abs(value) >= 100:
            numbers.add(abs(value))
        elif (
            key in ("first_name", "last_name", "username", "text", "data")
            and isinstance(value, str)
            and len(value.strip()) >= 6
            and _WORD.search(value)
        ):
            texts.add(value)

    for call in api.calls("getUpdates"):
        for update in (call.response or {}).get("result", []) or []:
            for kind, content in update.items():
                if kind != "update_id":  # update ids are sequence numbers, logged on purpose
                    visit(content)
    return numbers, texts


def assert_private(log: str, api: FakeBotApi, *, allowed: Iterable[str] = ()) -> None:
    """No message text, name or user/chat/message id of any received update in ``log``."""
    log = _STAMP.sub("", log)
    numbers, texts = private_data(api)
    leaks = [t for t in texts - set(allowed) if t in log]
    leaks += [str(n) for n in numbers if re.search(rf"(?<![\d.]){n}(?![\d.])", log)]
    assert leaks == [], f"log lines carry private data: {leaks[:5]}"


def process_logs(tmp_path: Path) -> str:
    """stdout and stderr of every process a test started under ``tmp_path``."""
    return "".join(
        path.read_text(encoding="utf-8", errors="replace")
        for pattern in ("*/stdout.txt", "*/stderr.txt")
        for path in sorted(tmp_path.glob(pattern))
    )


@pytest.fixture(autouse=True)
def scan_logs(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> Any:
    """Every fault test doubles as a privacy test of the logs: the in-process bot's records go
    through the ``PrivacyFilter`` the real process installs (``configure_logging``), a
    process's output is scanned as written. Both must hold no text, name or id of a user."""
    caplog.handler.addFilter(PrivacyFilter())
    caplog.set_level(logging.INFO)
    # Asked for now, so that the server outlives this fixture and its record can be read.
    api: FakeBotApi | None = (
        request.getfixturevalue("fake_api") if "fake_api" in request.fixturenames else None
    )
    yield
    if api is not None:
        assert_private(caplog.text + process_logs(tmp_path), api)


__all__ = [
    "PROJECT_ROOT",
    "CliResult",
    "PlainProcess",
    "StartPlain",
    "assert_private",
    "process_logs",
    "run_cli",
    "scan_logs",
    "start_plain",
    "status_of",
    "umask_000",
    "until_cli_status",
    "until_status",
    "without_root_powers",
]
