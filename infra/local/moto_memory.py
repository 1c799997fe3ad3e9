"""Stop moto from keeping every model object it ever creates.

moto's `BaseModel.__new__` appends each new instance to a class-level list, `instances_tracked`,
for its dashboard (`/moto-api/data.json`); nothing else reads it but S3's reset, and only moto's
reset empties it. DynamoDB builds a new `Item` for every item it stores, returns or compares, so a
long local run keeps them all: the 1,000-claim fault-injection run held 265,000 dead Items (about
5 KB each with their attribute objects) after two minutes, growing ~1 GB a minute, while the table
held 575 (docs/reliability.md). Tables (copied per request) and state machines pile up the same way.

`stop_instance_tracking()` replaces that `__new__` with one that only creates the object, and
empties the lists already filled. It is process-wide and stays installed: no medbill code uses
moto's dashboard, and the list was never more than a record of objects moto has otherwise dropped.
moto is pinned exactly (pyproject.toml); `check_moto_compatibility()` fails loudly if an upgrade
moves what this replaces.
"""

from __future__ import annotations

import threading
from typing import Any

PATCH_TARGET = "moto.core.common_models.BaseModel.__new__"

_LOCK = threading.Lock()
_ORIGINAL: dict[str, Any] = {}


class MotoMemoryError(RuntimeError):
    """moto no longer tracks instances the way this module expects (an upgrade moved it)."""


def _untracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    return object.__new__(cls)


_untracked_new.__medbill_untracked__ = True  # type: ignore[attr-defined]


def _base_model() -> type:
    try:
        from moto.core.common_models import BaseModel
    except ImportError as exc:  # pragma: no cover - only on an incompatible moto
        raise MotoMemoryError(f"moto no longer has {PATCH_TARGET}: {exc}") from exc
    return BaseModel


def check_moto_compatibility() -> None:
    """Raise MotoMemoryError unless moto's BaseModel still defines the __new__ this replaces and
    keeps its registry of model classes."""
    base = _base_model()
    if "__new__" not in base.__dict__:
        raise MotoMemoryError(f"{PATCH_TARGET} is gone: infra/local/moto_memory.py needs updating")
    try:
        from moto.core.model_instances import model_data
    except ImportError as exc:  # pragma: no cover - only on an incompatible moto
        raise MotoMemoryError(f"moto.core.model_instances.model_data is gone: {exc}") from exc
    if not isinstance(model_data, dict):  # pragma: no cover - only on an incompatible moto
        raise MotoMemoryError("moto.core.model_instances.model_data is no longer a dict of model classes")


def is_tracking() -> bool:
    new = _base_model().__dict__.get("__new__")
    return not getattr(getattr(new, "__func__", new), "__medbill_untracked__", False)


def stop_instance_tracking() -> None:
    """Idempotent. After it, moto's models are freed like any Python object once moto drops them."""
    check_moto_compatibility()
    from moto.core.model_instances import model_data

    with _LOCK:
        if is_tracking():
            _ORIGINAL["__new__"] = _base_model().__dict__["__new__"]
            _base_model().__new__ = staticmethod(_untracked_new)  # type: ignore[assignment]
        for models in model_data.values():
            for model in models.values():
                tracked = getattr(model, "instances_tracked", None)
                if isinstance(tracked, list):
                    tracked.clear()


def resume_instance_tracking() -> None:
    """Put moto's own __new__ back (tests; anyone who wants moto's dashboard in a short session)."""
    with _LOCK:
        if "__new__" in _ORIGINAL:
            _base_model().__new__ = _ORIGINAL.pop("__new__")  # type: ignore[assignment]
