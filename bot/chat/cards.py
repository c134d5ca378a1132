"""Answer cards, status lines, contact details, button labels and message splitting.

Everything here is a pure function of the knowledge base, an entry and the text catalogue, so the
Telegram bot, the terminal chat and the CLI show exactly the same card.
"""

from __future__ import annotations

from html import unescape

from bot.chat.texts import Html, Texts
from bot.knowledge.schema import Entry, KnowledgeBase

MAX_MESSAGE = 4096
MAX_LABEL = 60
NOTE = "note"  # the detail line that says where contact data can be found


def card(kb: KnowledgeBase, entry: Entry, texts: Texts) -> Html:
    """The answer card: what it is, for whom, its status and whom to contact."""
    kind = texts(f"kind.{entry.kind}")
    if entry.ref:
        kind = texts("card.kind_ref", kind=kind, ref=entry.ref)
    lines = [
        texts("card.title", title=entry.title),
        texts("card.kind", kind=kind),
        "",
        texts("card.answer", answer=entry.answer),
    ]
    if entry.kind == "contact":
        lines.extend(contact_details(entry, texts))
        return Html("\n".join(lines))
    lines.append("")
    if entry.target_group:
        lines.append(texts("card.target", target=entry.target_group))
    status = status_text(kb, entry, texts)
    if status:
        lines.append(texts("card.status", status=status))
    if entry.web:
        lines.append(texts("detail.web", value=entry.web))
    contacts = kb.contacts_of(entry)
    if contacts:
        names = ", ".join(c.title for c in contacts)
        lines.append(texts("card.contacts", names=names))
        details: list[str] = []
        for contact in contacts[:3]:
            details.extend(d for d in contact_details(contact, texts) if d not in details)
        lines.extend(details)
    return one_note(Html("\n".join(lines)), texts)


def status_text(kb: KnowledgeBase, entry: Entry, texts: Texts | None = None) -> str | None:
    """The status in words, e.g. "geplant, Umsetzung bis Jahresbericht 2 (…)"; plain text."""
    texts = texts or Texts.load()
    if not entry.status or not texts.has(f"status.{entry.status}"):
        return None
    text = str(texts(f"status.{entry.status}"))
    if entry.deadline:
        text = texts("status.deadline", status=text, deadline=entry.deadline)
    if kb.organisation.as_of and entry.status != "verfuegbar":
        text = texts("status.as_of", status=text, as_of=kb.organisation.as_of)
    return unescape(text)


def contact_details(contact: Entry, texts: Texts) -> list[Html]:
    """Web, e-mail, phone and address lines; the note only when there are none of these."""
    details = [
        texts(f"detail.{name}", value=value)
        for name, value in (
            ("web", contact.web),
            ("email", contact.email),
            ("phone", contact.phone),
            ("address", contact.address),
        )
        if value
    ]
    if contact.note and not details:
        details.append(texts(f"detail.{NOTE}", value=contact.note))
    return details


def one_note(text: Html, texts: Texts) -> Html:
    """Keep only the first "where to find contact details" line of a message.

    Such notes tend to repeat each other from contact to contact: one is enough.
    """
    marker = str(texts(f"detail.{NOTE}", value="")).strip()
    seen = False
    kept = []
    for line in text.split("\n"):
        if marker and line.startswith(marker):
            if seen:
                continue
            seen = True
        kept.append(line)
    return Html("\n".join(kept))


def label(entry: Entry, texts: Texts) -> str:
    """Button label of an entry (plain text: Telegram shows button labels unformatted)."""
    text = f"{entry.ref} {entry.title}" if entry.ref else entry.title
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + texts("label.cut")


def split_message(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split at paragraph, then line, then word boundaries so no part exceeds ``limit``."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            pieces = line[:cut], line[cut:].lstrip()
            if current:
                parts.append(current)
                current = ""
            parts.append(pieces[0])
            line = pieces[1]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return [p for p in parts if p.strip()]
