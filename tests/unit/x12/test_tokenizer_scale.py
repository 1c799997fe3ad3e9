"""The tokenizer's work grows linearly with a segment's size (issue 12: one 60 MB segment took 90 s).

No timing: the tests count the characters the tokenizer hands to its interchange-end search
(`_find_iea`), which main handed the whole growing buffer once per 64 KB chunk (quadratic)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from medbill.x12 import tokenizer
from medbill.x12.tokenizer import X12TruncatedError, iter_raw_batches
from tests.unit.x12.test_tokenizer import isa

CHUNK = 1 << 16


def _file_with(element: str) -> str:
    body = ["GS*HP*S*R*20250101*1200*7*X*005010X221A1", "ST*835*0001", f"NTE*ADD*{element}", "SE*3*0001", "GE*1*7"]
    return isa() + "".join(s + "~" for s in body) + "IEA*1*000000001~"


def _chunks(text: str) -> Iterator[str]:
    for start in range(0, len(text), CHUNK):
        yield text[start : start + CHUNK]


@pytest.fixture
def searched(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Characters handed to each interchange-end search."""
    sizes: list[int] = []
    real = tokenizer._find_iea

    def counting(buf: str, elem: str, term: str) -> int:
        sizes.append(len(buf))
        return real(buf, elem, term)

    monkeypatch.setattr(tokenizer, "_find_iea", counting)
    return sizes


@pytest.mark.parametrize("source", ["string", "chunks"])
def test_a_huge_segment_is_searched_a_constant_number_of_times(searched: list[int], source: str) -> None:
    element = "X" * (8 << 20)  # 8 MB in one element: 128 chunks
    text = _file_with(element)
    batches = iter_raw_batches(text if source == "string" else _chunks(text))
    segments = [parts for batch, _ in batches for parts in batch]
    assert [s[0] for s in segments] == ["ISA", "GS", "ST", "NTE", "SE", "GE", "IEA"]
    assert segments[3] == ["NTE", "ADD", element]  # whole, not cut at a chunk boundary
    # main searched the buffer again after every chunk: 128 searches of up to 8 MB, ~540 MB in all.
    assert sum(searched) <= 2 * len(text)
    assert max(searched) <= len(text)


def test_the_work_per_character_does_not_grow_with_the_segment(searched: list[int]) -> None:
    per_char = []
    for megabytes in (2, 8):
        searched.clear()
        text = _file_with("Y" * (megabytes << 20))
        assert sum(len(b) for b, _ in iter_raw_batches(text)) == 7
        per_char.append(sum(searched) / len(text))
    # Linear: the same characters searched per input character at 2 and 8 MB (main: 4x more at 8 MB).
    assert per_char[1] <= per_char[0] * 1.05


def test_a_huge_segment_cut_off_at_the_end_is_still_named_truncated(searched: list[int]) -> None:
    text = _file_with("Z" * (4 << 20))
    cut = text[: text.index("Z") + (3 << 20)]  # ends inside the NTE, no terminator
    with pytest.raises(X12TruncatedError, match=r"ends inside segment 4 \(NTE\)"):
        for _ in iter_raw_batches(_chunks(cut)):
            pass
    assert sum(searched) <= 2 * len(cut)
