"""Threads of the local runtime: uncaught exceptions in any thread (moto runs each execution in
its own), and the background pump that `infra/local/server.py` runs.

Exceptions are kept (for tests and the runtime's report) and logged by type and thread only: a
message may quote a patient's data.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

LOG = logging.getLogger("medbill.local.runtime")


class ThreadErrors:
    """Collects uncaught thread exceptions through `threading.excepthook` while installed."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, BaseException]] = []
        self._previous: Any = None

    def record(self, where: str, exc: BaseException) -> None:
        self.errors.append((where, exc))

    def install(self) -> None:
        self._previous = threading.excepthook
        previous = self._previous

        def hook(args: threading.ExceptHookArgs) -> None:
            name = args.thread.name if args.thread else "?"
            if args.exc_value is not None:
                self.record(name, args.exc_value)
            LOG.error("uncaught %s in thread %s", getattr(args.exc_type, "__name__", "?"), name)
            previous(args)

        threading.excepthook = hook

    def restore(self) -> None:
        if self._previous is not None:
            threading.excepthook = self._previous
            self._previous = None


class BackgroundPump:
    """Calls `pump()` in a daemon thread until stopped; waits `interval_s` when a pass did nothing."""

    def __init__(self, pump: Callable[[], int], on_error: Callable[[str, BaseException], None]) -> None:
        self._pump = pump
        self._on_error = on_error
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, interval_s: float = 0.5) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(interval_s,), name="local-runtime-pump", daemon=True)
        self._thread.start()

    def _run(self, interval_s: float) -> None:
        while not self._stop.is_set():
            try:
                done = self._pump()
            except Exception as exc:
                LOG.exception("background pump failed: %s", type(exc).__name__)
                self._on_error("pump", exc)
                done = 0
            if done == 0:
                self._stop.wait(interval_s)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
