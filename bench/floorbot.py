"""The barest python-telegram-bot bot: the floor ``bench/e2e.py`` compares vereinbar against.

    TELEGRAM_BOT_TOKEN=... TELEGRAM_BASE_URL=http://127.0.0.1:PORT/bot python bench/floorbot.py

PTB's defaults throughout (HTTPXRequest, no rate limiter, no defaults), ``concurrent_updates``
on, and one MessageHandler that answers every text with the same short sentence. Whatever this
bot costs per message is the price of python-telegram-bot itself on this machine.

With ``FLOOR_TRANSPORT=aiohttp`` it uses vereinbar's ``bot.runtime.transport.AiohttpRequest``
with the pool sizes of ``bot/runtime/app.py`` instead, so the difference to vereinbar is
vereinbar's own work.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

REPLY = "Danke für Ihre Frage."


async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, REPLY)


def main() -> None:
    builder = Application.builder().token(os.environ["TELEGRAM_BOT_TOKEN"])
    base_url = os.environ.get("TELEGRAM_BASE_URL")
    if base_url:
        builder = builder.base_url(base_url)
    if os.environ.get("FLOOR_TRANSPORT") == "aiohttp":
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from bot.runtime.transport import AiohttpRequest

        builder = builder.request(AiohttpRequest(connection_pool_size=64)).get_updates_request(
            AiohttpRequest(connection_pool_size=2)
        )
    application = builder.concurrent_updates(True).build()
    application.add_handler(MessageHandler(filters.TEXT, reply))
    application.run_polling(allowed_updates=[Update.MESSAGE])


if __name__ == "__main__":
    main()
