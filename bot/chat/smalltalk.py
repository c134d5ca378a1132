"""Greetings, thanks and goodbyes: answered kindly, never with a knowledge base entry."""

from __future__ import annotations

import re

from bot.search.textnorm import fold

_GREETING = re.compile(
    r"^(hallo+|hall?ö?chen|hi+|hey+|moin( moin)?|servus|guten (morgen|tag|abend)|gute nacht|"
    r"gruss gott|gruezi|na|tach|tag|morgen|abend|hello|huhu|yo|"
    r"good (morning|afternoon|evening)|hi there|hey there)$"
)
_THANKS = re.compile(
    r"^((vielen |herzlichen |tausend )?dank(e|eschon|e schon|e sehr)?( dir| ihnen)?|merci|thx|"
    r"thanks|thank you|super danke|ok danke|danke super|top|prima|perfekt|klasse|cool|super|"
    r"alles klar|ok|okay|passt|gut|toll|"
    r"thanks a lot|many thanks|thank you very much|cheers|great|perfect)$"
)
_BYE = re.compile(
    r"^(tschuss|tschau|ciao|bye|bis (dann|bald|spater|morgen)|auf wiedersehen|wiedersehen|"
    r"schonen (tag|abend)|ade|cu|goodbye|good bye|see you|bye bye)$"
)
_WHO = re.compile(
    r"^(wer bist du|was bist du|was kannst du|wie funktionierst du|bist du ein (bot|mensch)|"
    r"bist du echt|wie heisst du|was machst du|"
    r"who are you|what are you|are you a (bot|human|person|robot)|are you real|what do you do)$"
)
_YES = re.compile(
    r"^(ja+|jo|jep|jap|yes|genau|stimmt|hat geholfen|ja danke|ja hat geholfen|yeah|yep|"
    r"that helped|it helped)$"
)
_NO = re.compile(
    r"^(nein|ne|nee|no|nope|hat nicht geholfen|leider nein|nicht wirklich|not really|"
    r"that did not help|it did not help)$"
)
_HOW_ARE_YOU = re.compile(
    r"^(wie gehts|wie geht es dir|wie geht es ihnen|alles gut|how are you|how are you doing)$"
)

_KINDS = (
    ("greeting", _GREETING),
    ("thanks", _THANKS),
    ("bye", _BYE),
    ("who", _WHO),
    ("howareyou", _HOW_ARE_YOU),
    ("yes", _YES),
    ("no", _NO),
)
KINDS = tuple(kind for kind, _ in _KINDS)  # each has its reply as text "smalltalk.<kind>"
_ANY = "|".join(f"(?P<{kind}>{pattern.pattern[1:-1]})" for kind, pattern in _KINDS)
_SEQUENCE = re.compile(rf"(?:(?:{_ANY})(?: |$))+")
_PHRASE = re.compile(rf"(?:{_ANY})(?= |$)")


def classify(text: str) -> str | None:
    """Return the small-talk kind of a whole message, or None for a real question.

    "Hallo, danke!" is small talk; "Hallo, wie beantrage ich Elternzeit?" is a question.
    """
    cleaned = re.sub(r"[^a-z ]+|\b(und|nochmal|auch|sehr)\b", " ", fold(text))
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    if not cleaned or not _SEQUENCE.fullmatch(cleaned):
        return None
    kind = None
    for match in _PHRASE.finditer(cleaned):
        kind = match.lastgroup or kind
    return kind
