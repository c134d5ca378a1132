"""The portal's page addresses, shared by the site builder and the bot's answer cards.

The scheme is flat files below the portal's folder, so the site works from any web server and
from a file share (``file://``), where folder addresses would not find their ``index.html``:

    index.html                 start page: topics and personal advice
    thema/<topic-id>.html      one page per topic (Handlungsfeld)
    eintrag/<entry-id>.html    one page per entry: measure, counselling service or contact
    kontakte.html              all contacts
    umsetzungsstand.html       status overview by Jahresbericht
    suche.html                 search (index built at build time) and all entries A–Z
    static/                    style, scripts and the search index (suchindex.js)
    en/…                       the same pages in English, same file names (en/eintrag/<id>.html),
                               searched with static/suchindex.en.js

German, the source language, stays at the root so that existing links keep working; every
other language mirrors the German tree in a folder named by its language code, so a page's
twin is found by adding or removing that folder.

Ids are the knowledge base's own ids, which the schema restricts to ``a-z``, ``0-9`` and ``-``,
so they need no escaping in a URL.
"""

from __future__ import annotations

import re

from bot.knowledge.schema import ID_PATTERN

ENTRY_DIR = "eintrag"
TOPIC_DIR = "thema"
START_PAGE = "index.html"
CONTACTS_PAGE = "kontakte.html"
STATUS_PAGE = "umsetzungsstand.html"
SEARCH_PAGE = "suche.html"
SOURCE_LANGUAGE = "de"

# Telegram: 5–32 characters, letters, digits and underscores; bot names end in "bot".
_BOT_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,30}[Bb][Oo][Tt]$")


def _checked(ident: str) -> str:
    if not ID_PATTERN.match(ident):
        raise ValueError(f"'{ident}' ist keine gültige id der Wissensbasis")
    return ident


def entry_path(entry_id: str) -> str:
    """Path of an entry's page relative to the portal's root folder."""
    return f"{ENTRY_DIR}/{_checked(entry_id)}.html"


def topic_path(topic_id: str) -> str:
    """Path of a topic's page relative to the portal's root folder."""
    return f"{TOPIC_DIR}/{_checked(topic_id)}.html"


def language_prefix(language: str) -> str:
    """The folder of a language's pages: '' for German, 'en/' for English."""
    if not re.fullmatch(r"[a-z]{2}", language):
        raise ValueError(f"'{language}' ist kein Sprachkürzel")
    return "" if language == SOURCE_LANGUAGE else f"{language}/"


def search_index(language: str) -> str:
    """Path of a language's search index relative to the portal's root folder."""
    suffix = "" if language == SOURCE_LANGUAGE else f".{language_prefix(language)[:-1]}"
    return f"static/suchindex{suffix}.js"


def offer_url(base_url: str, entry_id: str, language: str = SOURCE_LANGUAGE) -> str:
    """Absolute address of an entry's page in a published portal.

    ``base_url`` is where the portal's ``index.html`` lives (the value of ``BOT_PORTAL_URL``),
    with or without a trailing slash or ``index.html``:

    >>> offer_url("https://intranet.example/vereinbarkeit", "gleitzeit")
    'https://intranet.example/vereinbarkeit/eintrag/gleitzeit.html'
    >>> offer_url("https://intranet.example/vereinbarkeit/", "gleitzeit", "en")
    'https://intranet.example/vereinbarkeit/en/eintrag/gleitzeit.html'
    """
    base = base_url.strip()
    if base.endswith("/" + START_PAGE):
        base = base[: -len(START_PAGE)]
    return f"{base.rstrip('/')}/{language_prefix(language)}{entry_path(entry_id)}"


def bot_username(name: str) -> str:
    """A Telegram bot username without '@', or ValueError in German."""
    plain = name.strip().removeprefix("@")
    if not _BOT_USERNAME.match(plain):
        raise ValueError(
            f"'{name}' ist kein Telegram-Bot-Name (5–32 Zeichen aus A–Z, a–z, 0–9 und _, "
            "endet auf 'bot')"
        )
    return plain


def chat_link(username: str, entry_id: str | None = None) -> str:
    """Deep link into the bot; the bot's ``/start <id>`` opens the entry."""
    link = f"https://t.me/{bot_username(username)}"
    return f"{link}?start={_checked(entry_id)}" if entry_id is not None else link
