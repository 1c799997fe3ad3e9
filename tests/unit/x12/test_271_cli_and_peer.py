"""`medbill-x12 summary|validate` on 270 and 271 files, and the 271 reading cross-checked against
x12sdk 2.2.0 (the independent reader) on a generated 60-member batch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medbill.x12.cli import main
from testkit.eligibility import (
    our_upper,
    our_view,
    requests_batch,
    write_batch_271,
    x12sdk_upper,
    x12sdk_view,
)

from .eligibility_texts import RICH_271, UPPER_271


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_summary_271(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "rich.271"
    path.write_text(RICH_271)
    code, out, err = run(capsys, "summary", str(path))
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert doc["transaction"] == "271" and doc["envelope_problems"] == []
    (resp,) = doc["responses"]
    assert resp["sources"] == [
        {"entity": "PR", "name": "ACME HEALTH PLAN", "id_qualifier": "PI", "id": "842610001", "rejections": []}
    ]
    first, inactive, rejected, partly = resp["subscribers"]
    assert (first["hl"], first["traces"], first["status"], first["identity_corrected"]) == (
        "3",
        ["CLM0001"],
        "active",
        False,
    )
    assert first["plan"] == [
        {"qualifier": "18", "value": "PLAN77", "name": "GOLD PPO 2025"},
        {"qualifier": "1L", "value": "GRP555", "name": "ACME EMPLOYEES"},
    ]
    assert first["dates"] == {
        "plan_begin": "20250101",
        "plan_end": "20251231",
        "eligibility_begin": "20250101-20251231",
        "plan": "20250102",
    }
    copay, coinsurance = first["benefits"][1], first["benefits"][2]
    assert (
        copay["code"],
        copay["meaning"],
        copay["amount"],
        copay["percent"],
        copay["time_period_meaning"],
        copay["network"],
    ) == (
        "B",
        "Co-Payment",
        "25.00",
        None,
        "Visit",
        "in network",
    )
    assert (coinsurance["percent"], coinsurance["amount"], coinsurance["network"]) == ("0.2", None, "out of network")
    remaining = first["benefits"][4]
    assert (remaining["code"], remaining["time_period"], remaining["time_period_meaning"], remaining["amount"]) == (
        "C",
        "29",
        "Remaining",
        "500.00",
    )
    assert remaining["message_count"] == 1
    assert first["benefits"][7]["entities"] == [
        {"entity": "PRP", "meaning": "Primary Payer", "name": "BETA INSURANCE", "id_qualifier": "PI", "id": "99999"}
    ]
    assert first["dependents"][0]["status"] == "active" and first["dependents"][0]["traces"] == ["CLM0002"]
    assert (inactive["status"], inactive["identity_corrected"]) == ("inactive", True)
    assert rejected["rejections"] == [
        {
            "loop": "2100C",
            "code": "72",
            "meaning": "Invalid/Missing Subscriber/Insured ID",
            "valid_request": "N",
            "follow_up": "C",
            "follow_up_meaning": "Please Correct and Resubmit",
            "action": "correct and resend",
            "retry_after_days": None,
        }
    ]
    assert partly["dependents"][0]["rejections"][0]["action"] == "retry later"
    assert partly["dependents"][0]["rejections"][0]["retry_after_days"] == 10
    for phi in ("JANE", "W123456789", "19800203", "MAIN ST", "AUSTIN", "X98765432", "DEDUCTIBLE MET", "ROE"):
        assert phi not in out, phi


def test_validate_271_and_270(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rich, upper, inquiry = tmp_path / "rich.271", tmp_path / "upper.271", tmp_path / "batch.270"
    rich.write_text(RICH_271)
    upper.write_text(UPPER_271)
    from medbill.x12.claim837 import ControlNumbers
    from medbill.x12.eligibility import write_270

    inquiry.write_text(
        write_270(
            requests_batch(7),
            sender_id="SUNRISE",
            receiver_id="CLEARHOUSE",
            control_numbers=ControlNumbers(3, 3, (3,)),
            created=__import__("datetime").datetime(2025, 1, 2),
            trace_originator="9SUNRISE01",
        )
    )
    assert run(capsys, "validate", str(rich)) == (
        0,
        f"{rich}: OK 271: 1 transaction(s), 4 subscriber(s) and 2 dependent(s): 3 active, 1 inactive, 2 rejected, "
        "envelopes well formed\n",
        "",
    )
    code, out, _ = run(capsys, "validate", str(upper))
    assert code == 0 and "information receiver rejected (2100B AAA 51: Provider Not on File; correct and resend)" in out
    assert run(capsys, "validate", str(inquiry)) == (
        0,
        f"{inquiry}: OK 270: 1 transaction(s), 7 request(s), envelopes well formed\n",
        "",
    )
    broken = tmp_path / "broken.271"
    broken.write_text(RICH_271.replace("EB*B*IND*98*PR**27*25.00", "EB*B*IND*98*PR**27*25,00"))
    assert run(capsys, "validate", str(broken)) == (
        1,
        f"{broken}: EB at segment 23: EB07 '25,00' is not an X12 decimal number (expected digits, optionally a "
        "leading minus and a decimal point, e.g. 125.50); left out.\n"
        f"{broken}: INVALID 271: 1 problem(s) in 1 transaction(s)\n",
        "",
    )


def test_summary_270_holds_traces_and_service_types_not_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import datetime

    from medbill.x12.claim837 import ControlNumbers
    from medbill.x12.eligibility import write_270

    path = tmp_path / "batch.270"
    text = write_270(
        requests_batch(5),
        sender_id="SUNRISE",
        receiver_id="CLEARHOUSE",
        control_numbers=ControlNumbers(3, 3, (3,)),
        created=datetime(2025, 1, 2),
        trace_originator="9SUNRISE01",
    )
    path.write_text(text)
    code, out, _ = run(capsys, "summary", str(path))
    doc = json.loads(out)
    subs = doc["inquiries"][0]["subscribers"]
    assert [s["traces"] for s in subs] == [["C0000000"], ["C0000001"], ["C0000002"], ["C0000003"], []]
    assert [s.get("service_types_asked") for s in subs] == [
        ["30", "UC"],
        ["30", "98"],
        ["30", "UC"],
        ["30", "98"],
        None,
    ]
    assert subs[4]["dependents"][0]["traces"] == ["C0000004"]
    assert subs[4]["dependents"][0]["service_types_asked"] == ["30", "UC"]
    assert code == 0 and "JANE" not in out and "W000000001" not in out and "19800203" not in out


def test_x12sdk_reads_a_generated_batch_as_we_do() -> None:
    """60 subscribers (12 with a dependent): active, inactive and rejected members, copay / coinsurance /
    deductible / remaining / out-of-pocket amounts, 2110D rejections and 2120C other payers."""
    text = write_batch_271(60)
    ours = our_view(text)
    assert len(ours) == 60 and ours == x12sdk_view(text)
    assert our_upper(text) == x12sdk_upper(text) == []
    assert sum(1 for m in ours if m[4]) == 5  # rejected at 2100C/2100D: i % 11 == 10
    assert sum(1 for m in ours if m[0]) == 12  # dependents
