"""Answer cards, status lines, contact details, button labels and message splitting.

Everything here is a pure function of the knowledge base, an entry and the text catalogue, so the
Telegram bot, the terminal chat and the CLI show exactly the same card.
"""

from __future__ import annotations

import re
from html import unescape

from bot.chat.texts import Html, Texts
from bot.knowledge.schema import Entry, KnowledgeBase

MAX_MESSAGE = 4096
MAX_LABEL = 60
NOTE = "note"  # the detail line that says where contact data can be found
# Köln's agreement counts its deadlines in yearly reports ("Umsetzung bis Jahresbericht 2").
YEARLY_REPORT = re.compile(r"Jahresbericht (\d{1,2})")
_SENTENCE_END = re.compile(r"(?<=[a-zäöüß)“\"]{3})[.!?](?=\s+[A-ZÄÖÜ„])")
_PARENTHESES = re.compile(r"\s*\([^()]*\)")
_WEAK_END = re.compile(r"^[a-zäöüß]{1,4}[,:;]?$|^\W+$")  # "und", "bei", "der", "–"


def card(kb: KnowledgeBase, entry: Entry, texts: Texts) -> Html:
    """The answer card: what it is, for whom, its status and whom to contact."""
    kind = texts(f"kind.{entry.kind}")
    if entry.ref:
        kind = texts("card.kind_ref", kind=kind, ref=entry.ref)
    lines = [
        texts("card.title", title=entry.title),
        texts("card.kind", kind=kind),
        "",
        *([] if entry.speaks(texts.language) else [texts("card.untranslated")]),
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


_INNER_QUOTES = str.maketrans({"„": "‚", "“": "‘", "”": "’"})


def inner_quotes(title: str) -> str:
    """A title set inside quotes gets single ones of its own: „‚Elternzeit – wie geht’s?‘ –
    Beratung“, not „„Elternzeit …“ – Beratung“ (German and English quotes alike)."""
    return title.translate(_INNER_QUOTES)


def status_text(kb: KnowledgeBase, entry: Entry, texts: Texts | None = None) -> str | None:
    """The status in words, said once, with "Jahresbericht N" explained; plain text.

    The explanation says only what the source says: the reports are counted after the
    agreement of the year the knowledge base gives as its date. No calendar date is derived.
    """
    texts = texts or Texts.load()
    if not entry.status or not texts.has(f"status.{entry.status}"):
        return None
    text = str(texts(f"status.{entry.status}"))
    as_of = kb.organisation.as_of
    report = YEARLY_REPORT.fullmatch(entry.deadline or "")
    if report and as_of:
        text = texts("status.yearly_report", status=text, number=report[1], as_of=as_of)
    elif report:
        text = texts("status.yearly_report_undated", status=text, number=report[1])
    elif entry.deadline:
        text = texts("status.deadline", status=text, deadline=entry.deadline)
    elif as_of and entry.status != "verfuegbar":
        text = texts("status.as_of", status=text, as_of=as_of)
    if entry.status != "verfuegbar":
        text = texts("status.ask_today", status=text)
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


def is_note(line: str, texts: Texts) -> bool:
    """Whether a detail line is a "where to find contact details" note."""
    marker = str(texts(f"detail.{NOTE}", value="")).strip()
    return bool(marker) and line.startswith(marker)


def one_note(text: Html, texts: Texts) -> Html:
    """Keep only the first "where to find contact details" line of a message.

    Such notes tend to repeat each other from contact to contact: one is enough.
    """
    seen = False
    kept = []
    for line in text.split("\n"):
        if is_note(line, texts):
            if seen:
                continue
            seen = True
        kept.append(line)
    return Html("\n".join(kept))


def label(entry: Entry, texts: Texts, limit: int = MAX_LABEL) -> str:
    """Button label of an entry: its title without measure number, shortened to ``limit``.

    Plain text: Telegram shows button labels unformatted. In English a title too long for
    its button keeps the English gloss of a German name rather than the bare German name
    (``shorten_glossed``): "Plötzlich Pflege" alone tells an English reader nothing.
    """
    if texts.language != "de":
        return shorten_glossed(entry.title, limit, texts.plain("label.cut"))
    return shorten(entry.title, limit, texts.plain("label.cut"))


# English titles gloss German names in parentheses: „Plötzlich Pflege“ (suddenly caring),
# Amt für Personal und Verwaltungsmanagement (HR and administrative management office).
_GERMAN_LINKS = frozenset(
    {"für", "und", "von", "der", "die", "das", "des", "dem", "den", "zur", "zum", "im", "am"}
)
_ENGLISH_WEAK = frozenset(
    {"a", "an", "the", "and", "or", "of", "for", "with", "to", "at", "in", "on", "by", "from"}
)
_GLOSS = re.compile(r"\s*\(([^()]*)\)")


def shorten_glossed(text: str, limit: int, cut: str = "…") -> str:
    """An English title within ``limit``: whole if it fits, else with each glossed German
    name replaced by its gloss ("Setting up the advice centre"), other asides dropped, and
    cut after a word as the last resort. No key-noun logic: English nouns are not capitalised.
    """
    if len(text) <= limit:
        return text
    candidates = [_glossed(text, whole) for whole in (True, False)]
    candidates += [_GLOSS.sub("", c).strip() for c in candidates]
    for candidate in candidates:
        if len(candidate) <= limit:
            return candidate
    words = candidates[-1].split()
    fitting: list[str] = []
    for word in words:
        if len(" ".join([*fitting, word, cut])) > limit:
            break
        fitting.append(word)
    while len(fitting) > 1 and fitting[-1].lower().strip(",:;") in _ENGLISH_WEAK:
        fitting.pop()  # "… support with …" reads as if a word were missing
    shown = " ".join(fitting).rstrip(",:;–- ")
    if shown.count("„") != shown.count("“"):
        shown = shown.replace("„", "", 1)
    return f"{shown} {cut}" if shown else candidates[-1][: max(limit - len(cut), 1)] + cut


def _glossed(text: str, whole: bool) -> str:
    """``text`` with every "German name (english gloss)" as the gloss alone (with ``whole``
    False only up to its first comma: "work-life balance advice centre")."""
    while True:
        for match in _GLOSS.finditer(text):
            gloss = match[1].strip()
            first = gloss.split()[0] if gloss.split() else ""
            if not first or not (first[0].islower() or (first.isupper() and len(first) > 1)):
                continue  # "(Amtsleitungstag 2020)", "(Dienststelle)": German, not a gloss
            start = _german_run(text[: match.start()])
            if start is None:
                continue
            if not whole:
                gloss = gloss.split(",")[0].strip()
            glossed = text[:start] + gloss + text[match.end() :]
            text = glossed[0].upper() + glossed[1:] if start == 0 else glossed
            break
        else:
            return text


def _german_run(before: str) -> int | None:
    """Where the German name right before a gloss starts: the capitalised words (and German
    links such as "für", "und") at the end of ``before``, a „quoted“ name as a whole."""
    words = before.split(" ")
    start = len(words)
    if words and words[-1].endswith("“"):
        opening = next((i for i in range(len(words) - 1, -1, -1) if "„" in words[i]), None)
        if opening is None:
            return None
        start = opening
    else:
        while start > 0:
            word = words[start - 1].strip(",:;")
            if not word or not (word[0].isupper() or word in _GERMAN_LINKS):
                break
            start -= 1
        while start < len(words) and words[start].strip(",:;") in _GERMAN_LINKS:
            start += 1  # a name starts with a capitalised word, never with "für"
    if start == len(words):
        return None
    return len(" ".join(words[:start])) + (1 if start else 0)


def shorten(text: str, limit: int, cut: str = "…") -> str:
    """Shorten at word boundaries, keeping the key noun (the last capitalised word).

    Asides in parentheses go first; then the text is cut after a clause ("„Plötzlich Pflege“ –
    Beratung …"), else after a word, and when the key noun went with the cut it comes back
    behind it: "Familienservice: Beratung … Kinderbetreuung".
    """
    if len(text) <= limit:
        return text
    bare = _PARENTHESES.sub("", text).strip()
    if len(bare) <= limit:
        return bare
    words = bare.split()
    nouns = [w.strip(_PUNCTUATION) for w in words if w.strip(_PUNCTUATION)[:1].isupper()]
    key = nouns[-1] if nouns else ""
    heads = [_head(words[:keep]) for keep in range(len(words) - 1, 0, -1)]
    heads = [h if h.count("„") == h.count("“") else "" for h in heads]  # no open quote
    clauses = [
        h
        for keep, h in zip(range(len(words) - 1, 0, -1), heads, strict=True)
        if words[keep - 1].endswith((",", ":", ";")) or words[keep] in ("–", "-")
    ]
    for head in [h for h in clauses if len(h) >= limit // 3] + heads:
        key_shown = not key or key in head
        candidate = f"{head} {cut}" if key_shown else f"{head} {cut} {key}"
        if head and len(candidate) <= limit:
            return candidate
    for head in heads:  # the key noun alone is too long to come back: cut after a word
        if head and len(f"{head} {cut}") <= limit:
            return f"{head} {cut}"
    # Very narrow: as many whole words as fit (an opening quote without its end is dropped).
    fitting: list[str] = []
    for word in words:
        if len(" ".join([*fitting, word, cut])) > limit:
            break
        fitting.append(word)
    if fitting:
        shown = " ".join(fitting).rstrip(",:;–- ")
        if shown.count("„") != shown.count("“"):
            shown = shown.replace("„", "", 1)
        return f"{shown} {cut}"
    return bare[: max(limit - len(cut), 1)].rstrip() + cut


_PUNCTUATION = "„“\"'(),.:;–-"


def _head(words: list[str]) -> str:
    """Words before a cut, without a dangling short word, dash or half compound ("Fort-")."""
    head = list(words)
    while head and (_WEAK_END.match(head[-1]) or head[-1].endswith("-")):
        head.pop()
    return " ".join(head).rstrip(",:;–- ")


def first_sentence(text: str, limit: int = 220) -> str:
    """The first sentence of an answer, for comparisons; abbreviations ("z. B.") do not end it."""
    match = _SENTENCE_END.search(text)
    sentence = text[: match.start() + 1] if match else text
    return sentence if len(sentence) <= limit else shorten(sentence, limit)


def split_message(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split at paragraph, then line, then word boundaries so no part exceeds ``limit``.

    Telegram HTML stays valid in every part: a cut never falls inside a tag or an entity,
    and tags open at a cut are closed at the end of the part and opened again at the start
    of the next (``<b>`` around a long title, a link over a line break). Text that is not
    well-formed Telegram HTML is split as plain text.
    """
    if len(text) <= limit:
        return [text]
    tokens = _html_tokens(text)
    if tokens is None:
        return _split_plain(text, limit)
    return _split_html(tokens, limit)


def _split_plain(text: str, limit: int) -> list[str]:
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


# The tags Telegram's HTML parse mode knows; anything else in a text is not HTML to us.
_TAG = re.compile(
    r"<(/?)(b|strong|i|em|u|ins|s|strike|del|a|code|pre|span|tg-spoiler|tg-emoji|blockquote)"
    r"((?:\s[^<>]*)?)>"
)
_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")
# A token: (text, tag name or "" for text, +1 opening / -1 closing / 0 text)
_Token = tuple[str, str, int]


def _html_tokens(text: str) -> list[_Token] | None:
    """Tags, entities and single characters; None unless the tags are known and nest."""
    tokens: list[_Token] = []
    stack: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        match = _TAG.match(text, position) if char == "<" else None
        if match:
            name, closing = match[2], bool(match[1])
            if closing:
                if not stack or stack.pop() != name:
                    return None
            else:
                stack.append(name)
            tokens.append((match[0], name, -1 if closing else 1))
            position = match.end()
            continue
        entity = _ENTITY.match(text, position) if char == "&" else None
        piece = entity[0] if entity else char
        tokens.append((piece, "", 0))
        position += len(piece)
    if stack or not any(kind for _, _, kind in tokens):
        return None
    return tokens


def _closers(stack: list[_Token]) -> str:
    return "".join(f"</{name}>" for _, name, _ in reversed(stack))


def _split_html(tokens: list[_Token], limit: int) -> list[str]:
    parts: list[str] = []
    stack: list[_Token] = []  # the opening tags in force
    start = 0
    while start < len(tokens):
        prefix = "".join(raw for raw, _, _ in stack)
        size = len(prefix)
        walk = list(stack)
        best: dict[str, tuple[int, list[_Token]]] = {}
        end = start
        while end < len(tokens):
            raw, _, kind = tokens[end]
            size += len(raw)
            if kind == 1:
                walk.append(tokens[end])
            elif kind == -1:
                walk.pop()
            if size + len(_closers(walk)) > limit and end > start:
                break
            end += 1
            boundary = "line" if raw == "\n" else "word" if raw == " " else "any"
            best[boundary] = best["any"] = (end, list(walk))
        if end == len(tokens):
            cut, after = end, walk
        elif "line" in best:
            cut, after = best["line"]
        elif "word" in best and best["word"][0] - start > (limit - len(prefix)) // 2:
            cut, after = best["word"]
        else:
            cut, after = best["any"]
        body = "".join(raw for raw, _, _ in tokens[start:cut])
        part = prefix + body.rstrip() + _closers(after)
        if _TAG.sub("", part).strip():
            parts.append(part)
        stack = after
        start = cut
        while start < len(tokens) and tokens[start][0] in (" ", "\n", "\t"):
            start += 1
    return parts
