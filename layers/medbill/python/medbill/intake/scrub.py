"""Taking a record's values out of a rejection reason, with work bounded per record.

No pattern is built from the values (a regex of a 50 MB name took 96 s): each value is looked for
with `str.find` in the lower-cased reason, so the work is the reason's length times the number of
values, and values are bounded by the field limit before they get here.
"""

from __future__ import annotations

from collections.abc import Iterable

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _lower(text: str) -> str:
    low = text.lower()
    # A few characters lower to two ("İ"): then only ASCII is folded, so positions stay the same.
    return low if len(low) == len(text) else text.translate(_ASCII_LOWER)


def _word_char(c: str) -> bool:
    return c.isascii() and c.isalnum()


def scrub_values(text: str, values: Iterable[str], replacement: str, *, whole_words: bool = False) -> str:
    """`text` with every occurrence of each value (case-insensitive; longest values should come first)
    replaced. `whole_words`: only where the value is not part of a longer word ("Doe" but not "does")."""
    for value in values:
        if not value or len(value) > len(text):
            continue
        low, needle = _lower(text), _lower(value)
        parts: list[str] = []
        start = at = 0
        while (found := low.find(needle, at)) >= 0:
            end = found + len(needle)
            if whole_words and (
                (found > 0 and _word_char(low[found - 1])) or (end < len(low) and _word_char(low[end]))
            ):
                at = found + 1
                continue
            parts += [text[start:found], replacement]
            start = at = end
        if parts:
            text = "".join(parts) + text[start:]
    return text
