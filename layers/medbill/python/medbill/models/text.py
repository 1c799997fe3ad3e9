"""What free text a claim can carry: the X12 5010 extended character set, accents folded.

The models check names and addresses against it when a record is read, so a value that the 837P
writer would refuse is rejected at intake; the X12 segment writer uses the same rules.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# 5010 extended character set (what pyx12 accepts for charset "E" in 00501), before separators are removed.
EXTENDED_SET = "A-Za-z0-9 !\"&'()*+,\\-./:;?=%~@\\[\\]_{}\\\\|<>^`#$"
# The separators our writers use (element, repetition, component, segment).
DEFAULT_SEPARATORS = "*^:~"


@lru_cache(maxsize=32)
def _bad_char(separators: str) -> re.Pattern[str]:
    # Anything outside the extended set, plus the separators themselves.
    return re.compile(f"[^{EXTENDED_SET}]|[{re.escape(separators)}]")


def is_clean_text(value: str, separators: str = DEFAULT_SEPARATORS) -> bool:
    """True when `value` can be written as one simple element or component as it is."""
    return _bad_char(separators).search(value) is None


def to_x12_text(value: str) -> str:
    """Free text (names, addresses) in X12's character set: accents folded to ASCII ('José' -> 'Jose').

    Folding is lossless for matching purposes (payers compare names case- and accent-insensitively);
    anything that still is not ASCII is left in place so the writer refuses it.
    """
    if value.isascii():
        return value
    folded = unicodedata.normalize("NFKD", value)
    return "".join(c for c in folded if not unicodedata.combining(c))
