"""Remove contact and account data from question texts before they are stored.

Employees sometimes paste signatures, phone numbers or personnel numbers into
their questions. The question log only needs the wording of the question, so
everything that could point to a person is replaced by a placeholder. Measure
numbers (4.2.1), years, dates, times, hours and percentages stay intact because
the knowledge base team needs them to understand the question.
"""

from __future__ import annotations

import re
import unicodedata

MAX_LENGTH = 500
"""Stored questions are capped: longer texts are rarely questions and add risk."""

_INPUT_LIMIT = 4000
"""Telegram messages are at most 4096 characters; more is cut before matching."""

_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})
"""Control, format (zero-width, bidi override), surrogate and private-use characters."""

_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}", re.UNICODE)

_HANDLE = re.compile(r"(?<![\w.@])@[A-Za-z][A-Za-z0-9_]{3,31}\b")
"""Telegram @usernames."""

_NAME = r"[A-ZÄÖÜ][\w'-]+"
_SIGNED_NAME = re.compile(
    r"((?i:\b(?:mein name ist|ich hei(?:ß|ss)e|(?:viele|liebe|beste|freundliche|herzliche) "
    r"gr(?:ü|ue)(?:ß|ss)e|mit freundlichen gr(?:ü|ue)(?:ß|ss)en|gr(?:ü|ue)(?:ß|ss)e|"
    r"gru(?:ß|ss)|lg|vg|mfg)\b)[,:]?\s+)" + _NAME + r"(?:\.?\s" + _NAME + r"){0,2}"
    r"|((?i:\b(?:hier ist|hier spricht|ich bin)\b),?\s+)" + _NAME + r"\s" + _NAME
)
"""Names only where the wording says a name follows ("mein Name ist", sign-offs): German
capitalises every noun, so capitalised words elsewhere are no hint of a name."""

_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"']+")
_URL_TRAILING = ".,;:!?)]}»“”'\""

_IBAN = re.compile(
    r"(?i)(?<![\w])[a-z]{2}\d{2}(?:[ ]?[a-z0-9]{4}){2,7}(?:[ ]?[a-z0-9]{1,3})?(?![\w])"
)
_IBAN_MIN_DIGITS = 10

_PHONE = re.compile(
    r"""
    (?<![\w+])
    (?:
        (?:\+|00)\s?\d{2,3}[\s\-/]*(?:\(0\)[\s\-/]*)?\(?\d{2,5}\)?   # +49 221 / +49 (0)221
      | \(0\d{2,5}\)                                                # (0221)
      | 0\d{2,5}                                                    # 0221 / 0171
    )
    \s?[/\-]?\s?                                                    # 0221/ or 0171-
    \d(?:[ \-]?\d){2,11}                                            # 22 12 34 / 1234567
    (?:-\d{1,5})?                                                   # extension -0
    (?![\w])
    """,
    re.VERBOSE,
)

_DIGIT_RUN = re.compile(r"(?<!\d)\d{5,}(?!\d)")

_SUSPICIOUS = re.compile(r"[\d@]|www\.|://", re.IGNORECASE)
"""Every pattern needs one of these; most questions have none and skip the patterns."""

_SPACES = re.compile(r"\s+")


def redact(text: str) -> str:
    """Return ``text`` without e-mail addresses, phone numbers, IBANs and long numbers.

    The result is a single line of at most ``MAX_LENGTH`` characters.
    """
    cleaned = _clean(text)
    cleaned = _SIGNED_NAME.sub(_name_placeholder, cleaned)
    if not _SUSPICIOUS.search(cleaned):
        return _cap(cleaned)
    cleaned = _IBAN.sub(_iban_placeholder, cleaned)
    cleaned = _EMAIL.sub("[E-MAIL]", cleaned)
    cleaned = _HANDLE.sub("[NUTZERNAME]", cleaned)
    cleaned = _URL.sub(_url_without_query, cleaned)
    cleaned = _PHONE.sub("[TELEFON]", cleaned)
    cleaned = _DIGIT_RUN.sub("[NUMMER]", cleaned)
    return _cap(cleaned)


def _clean(text: str) -> str:
    """Normalise Unicode and drop control/format characters that hide content."""
    if len(text) > _INPUT_LIMIT:
        # Cut at a space so no half e-mail address or number escapes the patterns.
        head = text[:_INPUT_LIMIT]
        text = head.rsplit(None, 1)[0] if " " in head else ""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    if not text.isprintable():
        text = "".join(_visible(char) for char in text)
    return _SPACES.sub(" ", text).strip()


def _visible(char: str) -> str:
    if char.isspace():
        return " "
    if unicodedata.category(char) in _HIDDEN_CATEGORIES:
        return ""
    return char


def _name_placeholder(match: re.Match[str]) -> str:
    return (match.group(1) or match.group(2)) + "[NAME]"


def _iban_placeholder(match: re.Match[str]) -> str:
    """Only treat letter-digit runs with many digits as IBANs (not words like 'AB12 Test')."""
    value = match.group(0)
    if sum(char.isdigit() for char in value) >= _IBAN_MIN_DIGITS:
        return "[IBAN]"
    return value


def _url_without_query(match: re.Match[str]) -> str:
    """Keep the address of a page but drop query strings and fragments (tokens, ids)."""
    url = match.group(0)
    trailing = ""
    while url and url[-1] in _URL_TRAILING:
        trailing = url[-1] + trailing
        url = url[:-1]
    for separator in ("?", "#"):
        if separator in url:
            url = url.split(separator, 1)[0] + separator + "[PARAMETER]"
            break
    return url + trailing


def _cap(text: str) -> str:
    if len(text) <= MAX_LENGTH:
        return text
    return text[: MAX_LENGTH - 1].rstrip() + "…"
