"""277CA samples (read in place) parse to the verdict each file states, claim by claim."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from medbill.x12.ack277ca import read_277ca, summarize_277ca
from tests.conformance.conftest import sample_text


def test_accepted_sample(x12_samples: Path) -> None:
    result = read_277ca(sample_text(x12_samples / "277ca" / "imsweb_x12_277CA_accepted.txt"))
    (claim,) = result.claims
    assert (claim.claim_id, claim.outcome, claim.payer_claim_number) == ("5781", "accepted", "1107000000014420")
    assert (claim.total_charge, claim.codes, claim.billing_npi) == (Decimal("125"), ["A2:20"], "1234567890")
    receiver = next(lv for lv in result.levels if lv.level == "21")
    assert [str(c) for s in receiver.statuses for c in s.codes] == ["A1:20"]
    assert [lv.level for lv in result.levels] == ["20", "21", "19"]


def test_rejected_sample(x12_samples: Path) -> None:
    # One line, component separator "|": STC*A7|562|85 = rejected for invalid information, billing NPI.
    result = read_277ca(sample_text(x12_samples / "277ca" / "imsweb_x12_277CA_rejected.txt"))
    (claim,) = result.claims
    assert (claim.claim_id, claim.outcome, claim.codes) == ("3920394930203", "rejected", ["A7:562:85"])
    assert (claim.total_charge, claim.statuses[0].action) == (Decimal("199.14"), "WQ")
    assert claim.payer_claim_number == "1107000000001120"
    assert summarize_277ca(sample_text(x12_samples / "277ca" / "imsweb_x12_277CA_rejected.txt"))["rejected"] == 1


def test_deidentified_sample_has_no_real_category(x12_samples: Path) -> None:
    # The de-identification replaced every category with X9: no verdict can be read, and none is invented.
    text = sample_text(x12_samples / "277ca" / "oop_277CA_Deidentified_from_nth.txt")
    result = read_277ca(text)
    assert [(c.outcome, c.total_charge, len(c.statuses)) for c in result.claims] == [
        ("unknown", Decimal("220"), 3),
        ("unknown", Decimal("340"), 3),
        ("unknown", Decimal("340"), 3),
    ]
    assert [lv.level for lv in result.levels] == ["20", "21", "19", "19"]
    summary = summarize_277ca(text)
    assert (summary["claim_count"], summary["accepted"], summary["rejected"], summary["other"]) == (3, 0, 0, 3)
    assert summary["envelope_problems"] == []
