"""The knowledge base: data types (``model``), validation with German errors (``schema``) and
bounded YAML reading (``yamlsafe``)."""

from bot.knowledge.model import (
    KIND_LABELS,
    STATUS_LABELS,
    Entry,
    Kind,
    KnowledgeBase,
    Organisation,
    Problem,
    Topic,
)
from bot.knowledge.schema import KnowledgeError, load_knowledge, validate

__all__ = [
    "KIND_LABELS",
    "STATUS_LABELS",
    "Entry",
    "Kind",
    "KnowledgeBase",
    "KnowledgeError",
    "Organisation",
    "Problem",
    "Topic",
    "load_knowledge",
    "validate",
]
