"""The one place that leans on python-telegram-bot beyond its documented API.

A custom ``BaseRequest`` is handed "not given" markers for its timeouts. At run time only
public API is used: the marker is ``BaseRequest.DEFAULT_NONE`` and its class is taken from it.
PTB's aliases for the ``do_request`` signature live in private modules (``telegram._utils``), so
they are imported for type checking only: a PTB release that moves them fails ``mypy`` and
``tests/test_transport.py`` loudly, and never the bot's start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from telegram.request import BaseRequest

if TYPE_CHECKING:
    from telegram._utils.types import ODVInput, UploadFileDict

__all__ = ["ODVInput", "UploadFileDict", "given"]

_T = TypeVar("_T")
_NOT_GIVEN = type(BaseRequest.DEFAULT_NONE)  # PTB's DefaultValue class


def given(value: ODVInput[_T], default: _T | None) -> _T | None:
    """The value a caller passed, or ``default`` when PTB passed its "not given" marker."""
    return default if isinstance(value, _NOT_GIVEN) else value  # type: ignore[return-value]
