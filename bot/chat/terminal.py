"""A terminal conversation through the same conversation logic the Telegram bot uses.

Buttons become numbered choices; typing the number presses the button. The chat starts in the
language the conversation's ``languages`` default to (``python -m bot chat --lang en``);
/english and /deutsch switch as in Telegram.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from html import unescape

from bot.chat.conversation import Button, Conversation, Reply

_TAG = re.compile(r"</?(b|i|u|s|code|pre|a)( [^>]*)?>")


def to_plain(html: str) -> str:
    """Telegram HTML to terminal text."""
    return unescape(_TAG.sub("", html))


def render(reply: Reply, numbering_from: int = 1) -> tuple[str, list[Button]]:
    """Plain text of a reply with its buttons listed as [1], [2], …"""
    buttons = [b for row in reply.buttons for b in row]
    lines = [to_plain(reply.text)]
    if buttons:
        lines.append("")
        lines.extend(f"  [{i}] {b.label}" for i, b in enumerate(buttons, numbering_from))
    return "\n".join(lines), buttons


def dispatch(
    conversation: Conversation, line: str, buttons: list[Button], user_id: int | None = None
) -> list[Reply]:
    """Map one typed line to the conversation: a number presses a button, /befehl runs it."""
    text = line.strip()
    if text.isdigit() and buttons:
        if not 1 <= int(text) <= len(buttons):
            texts = conversation.texts_for(user_id)
            return [Reply(texts("terminal.number_range", count=len(buttons)))]
        button = buttons[int(text) - 1]
        return [conversation.press(button.action, user_id)] if button.action else []
    if text.startswith("/"):
        command, _, arg = text[1:].partition(" ")
        return conversation.run_command(command, arg.strip() or None, user_id)
    return conversation.ask(text, user_id)


def chat(
    conversation: Conversation,
    lines: Iterable[str] | None = None,
    write: Callable[[str], None] = print,
) -> None:
    """Run the loop until EOF, 'exit' or Ctrl-C; ``lines`` replaces input() in tests."""
    source = iter(lines) if lines is not None else None
    buttons: list[Button] = []
    for reply in conversation.start():
        text, buttons = render(reply)
        write(text)
    write(f"\n{conversation.texts_for(None)('terminal.intro')}")
    while True:
        texts = conversation.texts_for(None)  # /english and /deutsch switch it
        try:
            line = next(source) if source is not None else input(f"\n{texts('terminal.prompt')}")
        except (EOFError, StopIteration, KeyboardInterrupt):
            write("")
            return
        if line.strip().lower() in ("exit", "quit", "ende"):
            return
        if not line.strip():
            continue
        new_buttons: list[Button] = []
        for reply in dispatch(conversation, line, buttons):
            text, shown = render(reply, len(new_buttons) + 1)
            new_buttons.extend(shown)
            write(f"\n{texts('terminal.bot')}{text}")
        if new_buttons:
            buttons = new_buttons
