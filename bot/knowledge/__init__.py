"""The knowledge base: the model (Entry, Topic, KnowledgeBase) and its validation from YAML."""

from bot.knowledge.schema import (
    KIND_LABELS,
    STATUS_LABELS,
    Entry,
    KnowledgeBase,
    KnowledgeError,
    Organisation,
    Problem,
    Topic,
    load_knowledge,
    validate,
)

__all__ = [
    "KIND_LABELS",
    "STATUS_LABELS",
    "Entry",
    "KnowledgeBase",
    "KnowledgeError",
    "Organisation",
    "Problem",
    "Topic",
    "load_knowledge",
    "validate",
]
