"""999 samples (read in place) parse to the verdict each file states."""

from __future__ import annotations

from pathlib import Path

from medbill.x12.ack999 import read_999, summarize_999
from tests.conformance.conftest import sample_text


def test_accepted_sample(x12_samples: Path) -> None:
    text = sample_text(x12_samples / "999" / "imsweb_x12_999_accepted.txt")
    (ack,) = read_999(text)
    assert (ack.group_control_number, ack.functional_id, ack.set_id, ack.control_number) == (
        "17456",
        "HC",
        "837",
        "0001",
    )
    assert (ack.status, ack.ik5_code, ack.group_status, ack.segment_errors) == ("accepted", "A", "A", ())
    assert summarize_999(text)["accepted"] == 1


def test_rejected_sample(x12_samples: Path) -> None:
    # Component separator "|" in this file; IK3 names a (truncated) segment id NM at position 17, code 1.
    text = sample_text(x12_samples / "999" / "imsweb_x12_999_rejected.txt")
    (ack,) = read_999(text)
    assert (ack.group_control_number, ack.control_number, ack.status) == ("28", "0028", "rejected")
    assert (ack.ik5_code, ack.error_codes, ack.group_status) == ("R", ("5",), "R")
    (error,) = ack.segment_errors
    assert (error.segment_id, error.position, error.loop_id, error.code, error.elements) == ("NM", 17, "", "1", ())
    summary = summarize_999(text)
    assert (summary["rejected"], summary["groups"][0]["status"]) == (1, "rejected")
