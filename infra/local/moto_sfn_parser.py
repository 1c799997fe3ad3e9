"""Let moto's Step Functions interpreter parse state machines in parallel threads.

moto 5.2.5's ASL `Preprocessor` keeps its stack of query-language scopes in a class attribute
(`_query_language_per_scope: list = []`), so every instance shares one list. moto parses the
definition again for each execution, in that execution's thread; when many executions start at
once (1,000 encounters ingested in a minute, once transactions stopped copying the table) two
parses push and pop the same list and one dies with `IndexError: list index out of range`, leaving
its execution RUNNING with no thread behind it (seen in `bench pipeline`, 2026-12-07).

`per_parse_scopes()` gives each Preprocessor its own list when it is created. Process-wide,
idempotent, stays installed; `check_moto_compatibility()` fails loudly if an upgrade moves it.
"""

from __future__ import annotations

import threading
from typing import Any

PATCH_TARGET = "moto.stepfunctions.parser.asl.parse.preprocessor.Preprocessor._query_language_per_scope"

_LOCK = threading.Lock()
_ORIGINAL: dict[str, Any] = {}


class MotoSfnParserError(RuntimeError):
    """moto's ASL preprocessor changed (an upgrade): this module needs updating."""


def _preprocessor() -> type:
    try:
        from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
    except ImportError as exc:  # pragma: no cover - only on an incompatible moto
        raise MotoSfnParserError(f"moto no longer has {PATCH_TARGET}: {exc}") from exc
    return Preprocessor


def check_moto_compatibility() -> None:
    cls = _preprocessor()
    if not isinstance(cls.__dict__.get("_query_language_per_scope"), list):
        raise MotoSfnParserError(f"{PATCH_TARGET} is no longer a class-level list: moto_sfn_parser.py needs updating")


def is_per_parse() -> bool:
    return bool(getattr(_preprocessor().__dict__.get("__init__"), "__medbill_per_parse__", False))


def per_parse_scopes() -> None:
    check_moto_compatibility()
    cls = _preprocessor()
    with _LOCK:
        if is_per_parse():
            return
        original_init: Any = getattr(cls, "__init__")  # noqa: B009 - mypy refuses cls.__init__ on a type
        _ORIGINAL["__init__"] = cls.__dict__.get("__init__")

        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            original_init(self, *args, **kwargs)
            self._query_language_per_scope = []  # this parse's own stack

        __init__.__medbill_per_parse__ = True  # type: ignore[attr-defined]
        cls.__init__ = __init__  # type: ignore[misc]


def shared_scopes() -> None:
    """moto's own behaviour back (tests)."""
    with _LOCK:
        if "__init__" in _ORIGINAL:
            cls, original = _preprocessor(), _ORIGINAL.pop("__init__")
            if original is None:
                del cls.__init__  # type: ignore[misc]
            else:
                cls.__init__ = original  # type: ignore[misc]
