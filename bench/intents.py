"""How the conversation reads messages that are not (only) questions about an offer.

    python bench/intents.py [--messages bench/data/blind_messages.yaml] [--kb knowledge/koeln]

The messages were written blind by a helper who saw only the seed documents and a description
of four kinds (not the code, the ``gespraech`` lists or the knowledge base):

- ``person``: the whole point is to reach a human, without a subject;
- ``subject``: a person *and* a concrete subject ("über die Pflege meiner Mutter sprechen");
- ``smalltalk``: greetings, thanks, "what can you do", yes/no;
- ``question``: an ordinary question that happens to contain "sprechen", "Beratung", "hallo" …

Round 1 (``runde: 1``) was read in full while the recogniser was improved: development only.
Round 2, written afterwards by another helper under the same brief, is the test (the default).

Each message goes through a real Conversation in a chat of its own (German, or English for the
English ones) and the reply is read back as one of: ``person`` (the counselling office at once),
``smalltalk`` (a small-talk reply) or ``search`` (an answer card, choices or unknown). Wanted:
person → person, subject → search, smalltalk → smalltalk, question → search. Words only
(``BOT_SEMANTIC`` does not matter here: none of these replies depends on the embedding).
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from pathlib import Path

import yaml

from bot.chat.conversation import Conversation
from bot.chat.language import LanguageChoice
from bot.chat.texts import Texts
from bot.knowledge.lexicon import TALK_KINDS
from bot.search.library import Library

ROOT = Path(__file__).resolve().parents[1]
WANTED = {"person": "person", "subject": "search", "smalltalk": "smalltalk", "question": "search"}


def reply_kind(text: str, texts: Texts) -> str:
    if text.startswith(texts("person.intro")):
        return "person"
    if any(text == texts(f"smalltalk.{kind}") for kind in TALK_KINDS.values() if kind != "person"):
        return "smalltalk"
    heading = texts("help.text", examples="", commands="").split("\n", 1)[0]
    if text.startswith(heading):  # "Was kannst du?" read as the help command: no search
        return "smalltalk"
    return "search"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=Path, default=ROOT / "bench/data/blind_messages.yaml")
    parser.add_argument("--kb", type=Path, default=ROOT / "knowledge/koeln")
    parser.add_argument("--show", action="store_true", help="print every miss")
    parser.add_argument(
        "--runde", type=int, default=2, help="1: read while improving the recogniser; 2: test"
    )
    args = parser.parse_args()
    library, problems = Library.open(args.kb)
    assert library is not None, [str(p) for p in problems]
    items = [
        i
        for i in yaml.safe_load(args.messages.read_text(encoding="utf-8"))
        if i["runde"] == args.runde
    ]
    texts = {language: Texts.load(language) for language in ("de", "en")}
    tally: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    misses = []
    for n, item in enumerate(items):
        language = item["lang"]
        talk = Conversation(
            lambda: library.current,
            None,
            channel="bench",
            languages=LanguageChoice(default=language),
        )
        (reply, *_) = talk.ask(item["text"], user_id=n)
        got = reply_kind(reply.text, texts[language])
        tally[(item["kind"], language)][got] += 1
        if got != WANTED[item["kind"]]:
            misses.append((item["kind"], language, got, item["text"]))
    print(
        f"{len(items)} Nachrichten (Runde {args.runde}), {args.kb.name}; "
        "Anteil mit der gewünschten Antwortart\n"
    )
    print(f"{'Art':<10} {'Sprache':<7} {'n':>4} {'gewünscht':>10}  Antwortarten")
    for (kind, language), counts in sorted(tally.items()):
        n = sum(counts.values())
        share = counts[WANTED[kind]] / n
        spread = ", ".join(f"{k} {v}" for k, v in counts.most_common())
        print(f"{kind:<10} {language:<7} {n:>4} {share:>10.2f}  {spread}")
    if args.show:
        print()
        for kind, language, got, text in misses:
            print(f"{kind:<10} {language} -> {got:<9} {text}")


if __name__ == "__main__":
    main()
