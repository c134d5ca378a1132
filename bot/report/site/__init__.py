"""The intranet portal (measure 4.1.1): static pages generated from the knowledge base.

The bot and the portal read the same YAML, so they cannot disagree. ``build_site`` writes the
folder, ``offer_url`` gives the address of an entry's page for the bot's answer cards
(``BOT_PORTAL_URL``), ``make_server`` previews a build on 127.0.0.1. Pages exist in German
and, from the knowledge base's English fields, in English (``en/``); the portal's own words
are in ``texts.<lang>.yaml``. The URL scheme is documented in ``bot.report.site.urls``.
"""

from bot.report.site.build import SiteBuild, SiteError, build_site, knowledge_date
from bot.report.site.pages import CardWording, StatusText, plain_status
from bot.report.site.searchindex import TermAnalyzer
from bot.report.site.serve import address, make_server
from bot.report.site.urls import chat_link, entry_path, language_prefix, offer_url, topic_path

__all__ = [
    "CardWording",
    "SiteBuild",
    "SiteError",
    "StatusText",
    "TermAnalyzer",
    "address",
    "build_site",
    "chat_link",
    "entry_path",
    "knowledge_date",
    "language_prefix",
    "make_server",
    "offer_url",
    "plain_status",
    "topic_path",
]
