"""Webhook mode: Telegram's secret-token check, against the real process."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import aiohttp
from fakebotapi import FakeBotApi
from harness import bot_env, question_update, until

from bot.config import PROJECT_ROOT

SECRET = "geheim-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_answers_signed_updates_and_refuses_unsigned_ones(
    fake_api: FakeBotApi, tmp_path: Path
) -> None:
    port = free_port()
    env = bot_env(fake_api, tmp_path / "log.db")
    env["BOT_WEBHOOK_SECRET"] = SECRET
    with (tmp_path / "err.txt").open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--webhook",
            "https://bot.example.org/telegram",
            "--listen",
            f"127.0.0.1:{port}",
            cwd=PROJECT_ROOT,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=err,
        )
    try:
        await until(lambda: fake_api.calls("setWebhook") or proc.returncode is not None)
        assert proc.returncode is None, (tmp_path / "err.txt").read_text()
        registered = fake_api.calls("setWebhook")[-1].params
        assert registered["url"] == "https://bot.example.org/telegram"
        assert registered["secret_token"] == SECRET
        url = f"http://127.0.0.1:{port}/telegram"
        async with aiohttp.ClientSession() as session:
            await until(lambda: _listening(port))
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
    finally:
        if proc.returncode is None:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), 30)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
