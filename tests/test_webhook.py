"""Webhook mode: Telegram's secret-token check, against the real process."""

from __future__ import annotations

import contextlib
import errno
import os
import socket

import aiohttp
from fakebotapi import FakeBotApi
from harness import START_TIMEOUT, BotProcess, StartProcess, question_update, until

SECRET = "geheim-0123456789"
ATTEMPTS = 5  # fresh ports to try when another process took the picked one first


def unused_port() -> int:
    """A port that was free a moment ago; another process may bind it before the bot does."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listens_on(pid: int, port: int) -> bool:
    """Whether process ``pid`` itself holds a listening TCP socket on ``port`` (Linux /proc).

    A plain connect cannot tell the bot's webhook server from another process's socket on the
    same port, which is what a lost race leaves behind.
    """
    inodes = set()
    try:
        with os.scandir(f"/proc/{pid}/fd") as fds:
            for fd in fds:
                with contextlib.suppress(OSError):  # closed meanwhile
                    target = os.readlink(fd.path)
                    if target.startswith("socket:["):
                        inodes.add(target[len("socket:[") : -1])
        with open(f"/proc/{pid}/net/tcp", encoding="ascii") as table:
            lines = list(table)[1:]
    except OSError:  # the process has just ended
        return False
    for line in lines:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state == "0A" and int(local.rpartition(":")[2], 16) == port and inode in inodes:
            return True
    return False


async def start_webhook(start_process: StartProcess) -> tuple[BotProcess, int]:
    """Start the bot in webhook mode on a free port; try another one if the port was taken
    between picking and binding (the bot is told a port; it cannot report one it chose)."""
    for attempt in range(ATTEMPTS):
        port = unused_port()
        bot = await start_process(
            f"bot{attempt}",
            args=[
                "--webhook",
                "https://bot.example.org/telegram",
                "--listen",
                f"127.0.0.1:{port}",
            ],
            env={"BOT_WEBHOOK_SECRET": SECRET},
        )
        assert bot.proc is not None
        pid = bot.proc.pid
        await until(
            lambda: bot.returncode is not None or listens_on(pid, port),  # noqa: B023
            START_TIMEOUT,
        )
        if bot.returncode is None:
            return bot, port
        assert os.strerror(errno.EADDRINUSE) in bot.stderr(), bot.output()
    raise AssertionError(f"no free port in {ATTEMPTS} attempts")


async def test_webhook_answers_signed_updates_and_refuses_unsigned_ones(
    fake_api: FakeBotApi, start_process: StartProcess
) -> None:
    bot, port = await start_webhook(start_process)
    registered = fake_api.calls("setWebhook")[-1].params
    assert registered["url"] == "https://bot.example.org/telegram"
    assert registered["secret_token"] == SECRET
    url = f"http://127.0.0.1:{port}/telegram"
    async with aiohttp.ClientSession() as session:
        forged = question_update(900_000_001, "Spielekoffer", user=31)
        async with session.post(url, json=forged) as response:
            assert response.status == 403
        signed = question_update(900_000_002, "Spielekoffer", user=32)
        # Let the fake server know the chat, as Telegram would; in webhook mode nothing
        # polls, so the update itself reaches the bot only through our POST below.
        fake_api.send_update(signed)
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with session.post(url, json=signed, headers=headers) as response:
            assert response.status == 200
    answer = await fake_api.wait_for_messages(32, 1, timeout=30)
    assert "Spielekoffer" in (answer[0].text or "")
    assert fake_api.messages(31) == []
    bot.signal(15)
    assert await bot.wait() == 0


async def test_a_taken_webhook_port_is_one_german_line(
    fake_api: FakeBotApi, start_process: StartProcess
) -> None:
    """An admin who picks a port another service holds reads why, not a traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        bot = await start_process(
            "taken",
            args=[
                "--webhook",
                "https://bot.example.org/telegram",
                "--listen",
                f"127.0.0.1:{port}",
            ],
            env={"BOT_WEBHOOK_SECRET": SECRET},
        )
        await until(lambda: bot.returncode is not None, START_TIMEOUT)
    assert bot.returncode not in (None, 0)
    err = bot.stderr()
    assert f"Webhook: 127.0.0.1:{port} ist schon belegt" in err, bot.output()
    assert os.strerror(errno.EADDRINUSE) in err
    assert "Traceback" not in err
