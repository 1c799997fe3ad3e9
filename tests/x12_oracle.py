"""pyx12 4.0.0 as an independent X12 oracle for tests: validate a document in-process.

`pyx12_errors(text)` returns every error pyx12 reports (empty list = valid). pyx12 reports
errors only through its loggers, so a handler on the `pyx12` logger collects them while one
document is validated; a lock keeps concurrent callers from mixing their errors.
"""

from __future__ import annotations

import io
import logging
import threading

import pyx12.errors
import pyx12.params
import pyx12.x12n_document

_LOCK = threading.Lock()


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def pyx12_errors(text: str) -> list[str]:
    """Validate one X12 document with pyx12; the list of its error messages (empty when valid).

    A document pyx12 cannot validate at all (no map for its GS08, not X12) is one error too.
    """
    logger = logging.getLogger("pyx12")
    collector = _Collector()
    with _LOCK:
        old_level, old_propagate = logger.level, logger.propagate
        logger.addHandler(collector)
        logger.setLevel(logging.ERROR)
        logger.propagate = False  # keep pyx12's messages out of pytest's captured logs
        try:
            param = pyx12.params.params()
            valid = pyx12.x12n_document.x12n_document(
                param=param, src_file=io.StringIO(text), fd_997=None, fd_html=None, fd_xmldoc=None
            )
        except pyx12.errors.EngineError as exc:
            collector.messages.append(f"EngineError: {exc}")
            valid = False
        finally:
            logger.removeHandler(collector)
            logger.setLevel(old_level)
            logger.propagate = old_propagate
    if not valid and not collector.messages:
        collector.messages.append("pyx12 found the document invalid without logging an error")
    return collector.messages
