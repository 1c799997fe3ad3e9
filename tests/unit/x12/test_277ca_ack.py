"""277CA: what we write for the simulator passes pyx12 and reads back to the same verdict per claim."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest

from infra.config import ClearinghouseSettings
from medbill.x12.ack277ca import StatusCode, read_277ca, summarize_277ca, write_277ca
from medbill.x12.claim837 import ControlNumbers, write_837p
from medbill.x12.cli import main
from medbill.x12.envelope import check_envelopes
from medbill.x12.segments import X12DataError
from medbill.x12.tokenizer import tokenize
from testkit.x12_oracle import make_claim, make_person, pyx12_errors

CREATED = datetime(2025, 3, 16, 8, 0)
NPI_REJECT = StatusCode(category="A7", code="562", entity="85")


@pytest.fixture(scope="module")
def submission() -> str:
    claims = [
        make_claim("C1", lines=[("99213", (), "1", "100.00", (1,)), ("81002", (), "1", "25.50", (2,))]),
        make_claim(
            "C2",
            relationship="child",
            patient=make_person("PHICANARY", "KID"),
            member_id="MEMBERCANARY",
            frequency_code="7",
            payer_claim_number="OLD1",
        ),
        make_claim("C3", billing_index=1, rendering_index=0),
    ]
    return write_837p(
        claims,
        settings=ClearinghouseSettings(),
        control_numbers=ControlNumbers(interchange=5, group=5),
        created=datetime(2025, 3, 15, 10, 5),
    )


def ack(submission: str, **kwargs) -> str:
    text = write_277ca(submission, control_numbers=ControlNumbers(interchange=77, group=77), created=CREATED, **kwargs)
    assert pyx12_errors(text) == []
    assert check_envelopes(text)[1] == []
    return text


def test_accept_all_with_generated_payer_claim_numbers(submission: str) -> None:
    result = read_277ca(ack(submission))
    assert [(c.claim_id, c.outcome, c.total_charge) for c in result.claims] == [
        ("C1", "accepted", Decimal("125.50")),
        ("C2", "accepted", Decimal("100.00")),
        ("C3", "accepted", Decimal("100.00")),
    ]
    numbers = [c.payer_claim_number for c in result.claims]
    assert all(numbers) and len(set(numbers)) == 3
    assert [c.billing_npi for c in result.claims] == ["1234567893", "1234567893", "1912301953"]
    assert all(c.codes == ["A2:20"] for c in result.claims)
    levels = [(lv.level, lv.entity_id) for lv in result.levels]
    assert levels == [("20", "CLEARINGHOUSE"), ("21", "MEDBILL"), ("19", "1234567893"), ("19", "1912301953")]
    assert result.levels[1].statuses[0].amount == Decimal("325.50")


def test_reject_one_claim_with_three_codes(submission: str) -> None:
    codes = [NPI_REJECT, StatusCode(category="A7", code="21"), StatusCode(category="A7", code="164", entity="IL")]
    text = ack(submission, rejected={"C2": codes}, payer_claim_number=lambda claim_id: f"PCN-{claim_id}")
    result = read_277ca(text)
    c1, c2, c3 = result.claims
    assert (c1.outcome, c1.payer_claim_number) == ("accepted", "PCN-C1")
    assert (c2.outcome, c2.payer_claim_number, c2.codes) == ("rejected", None, ["A7:562:85", "A7:21", "A7:164:IL"])
    assert c2.statuses[0].action == "U" and c2.total_charge == Decimal("100.00")
    assert c3.outcome == "accepted"
    segs = list(tokenize(text))
    qty = [s.elements for s in segs if s.id == "QTY"]
    assert qty == [["90", "2"], ["AA", "1"], ["QA", "1"], ["QC", "1"], ["QA", "1"]]
    amt = [s.elements for s in segs if s.id == "AMT"]
    assert amt[:2] == [["YU", "225.50"], ["YY", "100.00"]]


def test_batch_level_rejection_is_inherited_by_claims_without_their_own_status(submission: str) -> None:
    text = ack(submission)
    # A receiver-level rejection with no claim-level STC: the claim is rejected too.
    lines = [
        line
        for line in text.replace("STC*A1:19*20250316*WQ*", "STC*A3:24*20250316*U*").split("\n")
        if not line.startswith("STC*A2:20")
    ]
    result = read_277ca("\n".join(lines))
    assert {c.outcome for c in result.claims} == {"rejected"}


def test_summary_has_no_names_or_member_ids(submission: str) -> None:
    summary = summarize_277ca(ack(submission, rejected={"C2": [NPI_REJECT]}))
    blob = json.dumps(summary)
    for phi in ("PHICANARY", "MEMBERCANARY", "MEM123456", "DOE", "20250314"):
        assert phi not in blob
    assert (summary["claim_count"], summary["accepted"], summary["rejected"]) == (3, 2, 1)
    c2 = summary["claims"][1]
    assert c2 == {
        "claim_id": "C2",
        "outcome": "rejected",
        "payer_claim_number": None,
        "total_charge": "100.00",
        "billing_npi": "1234567893",
        "statuses": [{"codes": ["A7:562:85"], "action": "U", "amount": "100.00"}],
        "line_statuses": [],
    }
    assert summary["levels"][0]["level"] == "information_source"


def test_bad_rejections_are_refused(submission: str) -> None:
    numbers = dict(control_numbers=ControlNumbers(interchange=1, group=1), created=CREATED)
    with pytest.raises(X12DataError, match="no claim NOPE"):
        write_277ca(submission, rejected={"NOPE": [NPI_REJECT]}, **numbers)
    with pytest.raises(X12DataError, match="claim C1: the first status code"):
        write_277ca(submission, rejected={"C1": [StatusCode(category="A2", code="20")]}, **numbers)
    with pytest.raises(X12DataError, match="claim C1: a rejection carries 1 to 3"):
        write_277ca(submission, rejected={"C1": []}, **numbers)


def test_service_line_statuses_stay_on_the_line() -> None:
    text = (
        "ISA*00*          *00*          *ZZ*A              *ZZ*B              *250101*1200*^*00501*000000001*0*P*:~"
        "GS*HN*A*B*20250101*1200*1*X*005010X214~ST*277*0001*005010X214~BHT*0085*08*1*20250101*1200*TH~"
        "HL*1**20*1~NM1*PR*2*PAYER*****PI*P1~TRN*1*1~DTP*050*D8*20250101~DTP*009*D8*20250101~"
        "HL*2*1*21*1~NM1*41*2*SUB*****46*S1~TRN*2*1~STC*A1:19*20250101*WQ*10~"
        "HL*3*2*19*1~NM1*85*2*CLINIC*****XX*1234567893~TRN*1*0~STC*A1:19**WQ*10~"
        "HL*4*3*PT~NM1*QC*1*X*Y****MI*M~TRN*2*CLMX~STC*A2:20*20250101*WQ*10~REF*1K*PX~DTP*472*D8*20250101~"
        "SVC*HC:99213*10*0~STC*A7:453*20250101*U~REF*FJ*LINE1~"
        "SE*23*0001~GE*1*1~IEA*1*000000001~"
    )
    (claim,) = read_277ca(text).claims
    assert (claim.outcome, claim.codes, claim.payer_claim_number) == ("accepted", ["A2:20"], "PX")
    assert [(ref, [str(c) for c in s.codes]) for ref, s in claim.line_statuses] == [("LINE1", ["A7:453"])]


@pytest.mark.parametrize("bad", ["1E2", "NaN", "1_00", "ABC"])
def test_stc_amount_that_is_not_a_number_is_a_problem(submission: str, bad: str, tmp_path, capsys) -> None:
    text = ack(submission, rejected={"C2": [NPI_REJECT]})
    stc = next(s for s in tokenize(text) if s.id == "STC" and s.get(4) == "100.00")
    elements = [bad if n == 3 else e for n, e in enumerate(stc.elements)]
    broken = text.replace(stc.to_x12(), "*".join(["STC", *elements]) + "~", 1)
    result = read_277ca(broken)
    assert result.problems == [
        f"STC at segment {stc.position}: STC04 "
        + (repr(bad) if bad != "ABC" else "(3 characters, not shown)")
        + " is not an X12 decimal number (expected digits, optionally a leading minus and a decimal point, e.g. "
        "125.50)."
    ]
    assert summarize_277ca(broken)["problems"] == result.problems
    path = tmp_path / "bad.277"
    path.write_text(broken)
    assert main(["validate", str(path)]) == 1
    assert f"{path}: STC at segment {stc.position}: STC04" in capsys.readouterr().out
    path.write_text(text)
    assert main(["validate", str(path)]) == 0
    assert "OK 277CA: 1 transaction(s), 3 claim(s): 2 accepted, 1 rejected" in capsys.readouterr().out


def _receiver_rejects(text: str) -> str:
    """The first (receiver-level, batch) STC turned into a rejection; claim-level STCs kept."""
    return text.replace("STC*A1:19*20250316*WQ*", "STC*A3:24:41*20250316*U*", 1)


def test_a_receiver_level_rejection_rejects_claims_even_with_their_own_acceptance(submission: str) -> None:
    text = _receiver_rejects(ack(submission))
    assert "STC*A2:20" in text  # every claim still says accepted
    result = read_277ca(text)
    assert {c.outcome for c in result.claims} == {"rejected"}
    assert [(lv.level, lv.hl_id) for lv in result.rejected_levels] == [("21", "2")]
    summary = summarize_277ca(text)
    assert (summary["accepted"], summary["rejected"]) == (0, 3)
    assert summary["rejected_levels"] == [{"level": "information_receiver", "hl_id": "2", "codes": ["A3:24:41"]}]


def test_a_rejected_batch_without_claims_is_not_reported_as_nothing_rejected(submission: str, tmp_path, capsys) -> None:
    text = _receiver_rejects(ack(submission))
    # keep the header levels only: the receiver's rejection and no claims below it
    head = text[: text.index("HL*3*")]
    count = head[head.index("ST*277") :].count("~")
    text = head + f"SE*{count + 1}*0001~\nGE*1*77~\nIEA*1*000000077~\n"
    assert check_envelopes(text)[1] == []
    summary = summarize_277ca(text)
    assert summary["claim_count"] == 0 and len(summary["rejected_levels"]) == 1
    path = tmp_path / "batch.277"
    path.write_text(text)
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "information receiver (HL 2) rejected: A3:24:41; 0 claim(s)" in out
