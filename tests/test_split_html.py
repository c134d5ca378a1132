"""split_message keeps Telegram HTML valid in every part (bot/chat/cards.py).

A 5,000-character title in ``<b>`` used to be cut into parts with an unbalanced tag, which
Telegram rejects; a link was cut inside its ``<a href="…">``. Each part must now be valid on its
own, within the limit, and together they must show exactly the text of the whole.
"""

from __future__ import annotations

import random
import re
from html import escape, unescape

from chatkit import assert_telegram_html

from bot.chat.cards import MAX_MESSAGE, split_message


def visible(html: str) -> str:
    """What Telegram shows, without whitespace (splitting may drop the spaces it cuts at)."""
    return "".join(unescape(re.sub(r"<[^>]+>", "", html)).split())


def test_a_title_longer_than_a_message_stays_bold_in_every_part() -> None:
    title = escape("Sehr langer Titel & mehr " * 200)
    text = f"<b>{title}</b>\nDanach normal."
    parts = split_message(text)
    assert len(parts) == 2
    for part in parts:
        assert len(part) <= MAX_MESSAGE
        assert_telegram_html(part)
    assert parts[0].startswith("<b>") and parts[0].endswith("</b>")
    assert parts[1].startswith("<b>")
    assert visible("".join(parts)) == visible(text)


def test_a_cut_never_falls_inside_a_tag_or_an_entity() -> None:
    link = '<a href="https://www.stadt-koeln.de/leben in koeln/">Link mit Leerzeichen</a>'
    text = " ".join([link, "&amp;", "&#x1F600;"] * 40)
    for limit in range(len(link) + 10, len(link) + 40):
        parts = split_message(text, limit)
        for part in parts:
            assert len(part) <= limit, (limit, part)
            assert_telegram_html(part)
        assert visible("".join(parts)) == visible(text)


def test_random_nested_html_is_valid_in_every_part() -> None:
    rng = random.Random(14)
    tags = ["b", "i", "u", "s", "code", 'a href="https://example.org/x y"']
    for _ in range(200):
        pieces: list[str] = []
        stack: list[str] = []
        for _ in range(rng.randint(5, 60)):
            roll = rng.random()
            if roll < 0.2 and len(stack) < 3:
                tag = rng.choice(tags)
                stack.append(tag.split()[0])
                pieces.append(f"<{tag}>")
            elif roll < 0.35 and stack:
                pieces.append(f"</{stack.pop()}>")
            else:
                word = "".join(rng.choice("abcäöüß") for _ in range(rng.randint(1, 40)))
                pieces.append(escape(word) + rng.choice([" ", "\n", " & ".replace("&", "&amp;")]))
        pieces.extend(f"</{tag}>" for tag in reversed(stack))
        text = "".join(pieces)
        limit = rng.randint(90, 300)
        parts = split_message(text, limit)
        for part in parts:
            assert len(part) <= limit, (limit, part)
            assert_telegram_html(part)
        assert visible("".join(parts)) == visible(text)


def test_text_that_is_no_html_is_split_as_before() -> None:
    assert [len(p) for p in split_message("x" * 10_000)] == [4096, 4096, 1808]
    stray = "a <b> without end " * 400  # not Telegram HTML: split as plain text, nothing added
    parts = split_message(stray, 100)
    assert "".join("".join(parts).split()) == "".join(stray.split())
