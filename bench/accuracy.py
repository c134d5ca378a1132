"""Search quality and speed: the project against two baselines on the same knowledge base.

    python bench/accuracy.py                      # Köln set, synthetic sizes 1,000 and 10,000
    python bench/accuracy.py --kb knowledge/herne --questions tests/data/questions_herne.yaml

Baselines get the benefit of the doubt: their rejection threshold is the one that maximises
(top-1 + rejection) / 2 on the very set being measured.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge.schema import Entry, KnowledgeBase, load_knowledge  # noqa: E402
from bot.search.index import SearchIndex  # noqa: E402
from bot.search.textnorm import terms  # noqa: E402


@dataclass(frozen=True)
class Question:
    text: str
    expected: frozenset[str]


@dataclass(frozen=True)
class Figures:
    top1: float
    top3: float
    rejected: float
    p50_ms: float
    p99_ms: float


Ranker = Callable[[str], tuple[list[str], float, bool]]  # ids best first, top score, unknown?


def load_questions(path: Path) -> list[Question]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [Question(item["frage"], frozenset(item["erwartet"])) for item in raw]


def measure(questions: Sequence[Question], rank: Ranker, rounds: int = 3) -> Figures:
    in_scope = [q for q in questions if q.expected]
    out_scope = [q for q in questions if not q.expected]
    top1 = top3 = rejected = 0
    timings: list[float] = []
    for q in questions:
        ids, _score, unknown = rank(q.text)
        for _ in range(rounds):
            start = time.perf_counter()
            rank(q.text)
            timings.append((time.perf_counter() - start) * 1000)
        if q.expected:
            if not unknown and ids[:1] and ids[0] in q.expected:
                top1 += 1
            if not unknown and q.expected & set(ids[:3]):
                top3 += 1
        elif unknown:
            rejected += 1
    timings.sort()
    return Figures(
        top1=top1 / max(len(in_scope), 1),
        top3=top3 / max(len(in_scope), 1),
        rejected=rejected / max(len(out_scope), 1),
        p50_ms=statistics.median(timings),
        p99_ms=timings[min(len(timings) - 1, int(len(timings) * 0.99))],
    )


def project_ranker(index: SearchIndex) -> Ranker:
    def rank(text: str) -> tuple[list[str], float, bool]:
        result = index.search(text, limit=5)
        ids = [m.entry.id for m in result.matches]
        return ids, result.matches[0].score if result.matches else 0.0, result.outcome == "unknown"

    return rank


def direct_rate(questions: Sequence[Question], index: SearchIndex) -> tuple[float, float]:
    """Share of in-scope questions answered outright and right, and outright but wrong."""
    right = wrong = 0
    in_scope = [q for q in questions if q.expected]
    for q in in_scope:
        result = index.search(q.text)
        if result.outcome == "answered":
            if result.matches[0].entry.id in q.expected:
                right += 1
            else:
                wrong += 1
    return right / max(len(in_scope), 1), wrong / max(len(in_scope), 1)


def wratio_ranker(kb: KnowledgeBase) -> Callable[[float], Ranker]:
    from rapidfuzz import fuzz, process, utils

    titles = {e.id: e.title for e in kb.entries.values()}

    def with_threshold(threshold: float) -> Ranker:
        def rank(text: str) -> tuple[list[str], float, bool]:
            best = process.extractOne(
                text, titles, scorer=fuzz.WRatio, processor=utils.default_process
            )
            if best is None:
                return [], 0.0, True
            top3 = process.extract(
                text, titles, scorer=fuzz.WRatio, processor=utils.default_process, limit=3
            )
            return [k for _, _, k in top3], best[1], best[1] < threshold

        return rank

    return with_threshold


def bm25_ranker(kb: KnowledgeBase) -> Callable[[float], Ranker]:
    import bm25s

    entries = list(kb.entries.values())
    corpus = [" ".join(terms(_all_text(e))) or "-" for e in entries]
    retriever = bm25s.BM25()
    retriever.index(
        bm25s.tokenize(corpus, stopwords=None, show_progress=False), show_progress=False
    )
    k = min(3, len(entries))

    def with_threshold(threshold: float) -> Ranker:
        def rank(text: str) -> tuple[list[str], float, bool]:
            query = " ".join(terms(text)) or "-"
            tokens = bm25s.tokenize([query], stopwords=None, show_progress=False)
            docs, scores = retriever.retrieve(tokens, k=k, show_progress=False)
            ids = [entries[int(i)].id for i in docs[0]]
            top = float(scores[0][0])
            return ids, top, top < threshold

        return rank

    return with_threshold


def _all_text(entry: Entry) -> str:
    return " ".join(
        [entry.title, entry.answer, entry.target_group or "", *entry.synonyms, *entry.examples]
    )


def best_threshold(
    questions: Sequence[Question], family: Callable[[float], Ranker], candidates: Sequence[float]
) -> tuple[float, Figures]:
    scored = []
    for threshold in candidates:
        figures = measure(questions, family(threshold), rounds=1)
        scored.append(((figures.top1 + figures.rejected) / 2, threshold, figures))
    _, threshold, figures = max(scored, key=lambda s: s[0])
    return threshold, figures


def synthetic_kb(kb: KnowledgeBase, size: int) -> KnowledgeBase:
    """Scale a real knowledge base up by recombining its entries' words (seeded, repeatable)."""
    import random

    rng = random.Random(size)
    base = [e for e in kb.entries.values() if e.kind != "contact"]
    vocab = sorted({w for e in base for w in _all_text(e).split() if len(w) > 3})
    entries = dict(kb.entries)
    i = 0
    while len(entries) < size:
        template = base[i % len(base)]
        i += 1
        words = rng.sample(vocab, 12)
        entries[f"syn-{i}"] = replace(
            template,
            id=f"syn-{i}",
            ref=None,
            related_refs=(),
            title=" ".join(words[:3]),
            synonyms=tuple(words[3:8]),
            examples=(" ".join(words[4:10]) + "?", " ".join(rng.sample(vocab, 6))),
            answer=" ".join(rng.sample(vocab, 30)),
        )
    return replace(kb, entries=entries, by_ref={r: e for r, e in kb.by_ref.items()})


def timing_at_scale(kb: KnowledgeBase, questions: Sequence[Question], sizes: Sequence[int]) -> None:
    print("\nSuche auf synthetischen Wissensbasen (Fragen des Sets, je 1 Durchlauf nach Aufwärmen)")
    print(f"{'Einträge':>9} {'Index-Aufbau':>13} {'p50 ms':>8} {'p99 ms':>8}")
    for size in sizes:
        big = synthetic_kb(kb, size)
        start = time.perf_counter()
        index = SearchIndex(big)
        build = time.perf_counter() - start
        figures = measure(questions, project_ranker(index), rounds=1)
        print(f"{size:>9} {build * 1000:>11.0f}ms {figures.p50_ms:>8.2f} {figures.p99_ms:>8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=Path, default=ROOT / "knowledge" / "koeln")
    parser.add_argument(
        "--questions",
        type=Path,
        nargs="+",
        default=[ROOT / "tests" / "data" / "questions_koeln.yaml"],
    )
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--no-baselines", action="store_true")
    args = parser.parse_args()

    kb = load_knowledge(args.kb)
    index = SearchIndex(kb)
    for path in args.questions:
        questions = load_questions(path)
        n_in = sum(1 for q in questions if q.expected)
        print(
            f"\n{path.name}: {n_in} Fragen im Themenbereich, {len(questions) - n_in} außerhalb; "
            f"Wissensbasis {kb.organisation.name} ({len(kb.entries)} Einträge)"
        )
        rows = [("vereinbar", measure(questions, project_ranker(index)))]
        if not args.no_baselines:
            t, fig = best_threshold(questions, wratio_ranker(kb), range(30, 100, 5))
            rows.append((f"WRatio Titel (ab {t})", fig))
            t, fig = best_threshold(questions, bm25_ranker(kb), [x / 2 for x in range(0, 20)])
            rows.append((f"BM25 (ab {t})", fig))
        print(
            f"{'Verfahren':<24} {'Top-1':>6} {'Top-3':>6} {'abgelehnt':>10} {'p50 ms':>7} "
            f"{'p99 ms':>7}"
        )
        for name, f in rows:
            print(
                f"{name:<24} {f.top1:>6.3f} {f.top3:>6.3f} {f.rejected:>10.3f} "
                f"{f.p50_ms:>7.3f} {f.p99_ms:>7.3f}"
            )
        right, wrong = direct_rate(questions, index)
        print(
            f"vereinbar direkt beantwortet: richtig {right:.3f}, falsch {wrong:.3f} "
            "(Rest: Rückfrage oder unbekannt)"
        )
    if args.sizes:
        timing_at_scale(kb, load_questions(args.questions[0]), args.sizes)


if __name__ == "__main__":
    main()
