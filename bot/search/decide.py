"""answered / ambiguous / unknown, from features of the ranking, by a calibrated model.

The lexical score alone is a poor judge: a short keyword question scores high and is right, a
long life story scores lower and is just as right. A logistic model over a few features of the
ranking (score, margin to the first genuinely different runner-up, coverage, phrase likeness,
length, unknown words, off-topic and missing subjects, whether the runner-up is the same offer
in another form) estimates the probability that the first entry is right. Its weights are
fitted on the *train* split of the blind sets and the thresholds chosen on *dev*
(``python bench/accuracy.py --fit`` prints both); the test split is never used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from bot.search.config import SearchConfig

Outcome = Literal["answered", "ambiguous", "unknown"]


@dataclass(frozen=True, slots=True)
class Features:
    score: float
    coverage: float
    phrase: float
    terms: int
    unknown: float  # share of the question's weight the knowledge base has never seen
    off_topic: bool
    missing: bool
    semantic: float | None = None  # cosine of the first entry, when the embedding was asked
    semantic_margin: float = 0.0
    lexical: float = 0.0  # the first entry's lexical score, when the ranking was fused
    agree_lexical: bool = False  # the fused first entry is also the words' first entry
    agree_semantic: bool = False  # ... and the embedding's own first entry


FEATURE_NAMES = (
    "bias",
    "score",
    "runner_up",
    "margin",
    "coverage",
    "phrase",
    "log_terms",
    "unknown",
    "off_topic",
    "missing",
    "linked_runner_up",
)

DEFAULT_WEIGHTS: tuple[float, ...] = (
    -3.385, 2.018, -0.807, 2.824, 2.637, 2.264, 0.754, -1.826, -1.258, -0.564, 0.618,
)  # fmt: skip
"""Fitted by ``bench/accuracy.py --fit`` on the train split (see docs/performance.md)."""

SEMANTIC_FEATURES = ("semantic", "semantic_margin", "lexical", "agree_lexical", "agree_semantic")
DEFAULT_SEMANTIC_WEIGHTS: tuple[float, ...] = (
    -2.984, 0.574, -0.374, 0.948, 1.259, 0.926, 0.485, -1.171, -1.245, -0.711, 0.522,
    0.58, 0.232, 1.189, 0.836, 0.203,
)  # fmt: skip
"""The same model plus SEMANTIC_FEATURES for fused rankings (``--fit`` with the extra)."""


def vector(features: Features, runner_up: float, linked_runner_up: bool) -> list[float]:
    """The lexical features; fused rankings append SEMANTIC_FEATURES."""
    base = [
        1.0,
        features.score,
        runner_up,
        features.score - runner_up,
        features.coverage,
        features.phrase,
        math.log1p(features.terms),
        features.unknown,
        float(features.off_topic),
        float(features.missing),
        float(linked_runner_up),
    ]
    if features.semantic is None:
        return base
    return [
        *base,
        features.semantic,
        features.semantic_margin,
        features.lexical,
        float(features.agree_lexical),
        float(features.agree_semantic),
    ]


def probability(x: list[float], weights: tuple[float, ...]) -> float:
    z = sum(w * v for w, v in zip(weights, x, strict=True))
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def decide(
    features: Features,
    *,
    runner_up: float,
    linked_runner_up: bool,
    rivals: int,
    config: SearchConfig,
) -> tuple[Outcome, float]:
    """The outcome and the estimated probability that the first entry is right."""
    x = vector(features, runner_up, linked_runner_up)
    if features.semantic is None:
        weights = config.weights or DEFAULT_WEIGHTS
    else:
        weights = config.semantic_weights or DEFAULT_SEMANTIC_WEIGHTS
        if len(weights) != len(x):
            return "ambiguous", 0.0  # not fitted: never answer outright on an unfitted model
    p = probability(x, weights)
    answer = config.answer_probability if features.semantic is None else config.semantic_answer
    if p >= answer and not rivals:
        # Two genuinely different offers within close_ratio of each other: the employee
        # chooses, however confident the model is that one of them is right.
        return "answered", p
    floor = config.choice_floor if features.semantic is None else config.semantic_choice_floor
    if p >= floor:
        return "ambiguous", p
    return "unknown", p
