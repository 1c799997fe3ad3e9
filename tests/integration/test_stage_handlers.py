"""Each state-machine stage handler against moto, called with the payload the ASL sends."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from infra.local.core_endpoint import CoreEndpoint
from infra.local.lambda_bridge import LambdaBridge, load_project_handlers
from infra.local.provision import LocalResources
from medbill.entry import wiring
from medbill.models.status import ClaimStatus as S
from medbill.workflow.intake import new_claim
from testkit.x12_oracle import pyx12_errors
from tests.factories import make_encounter


@pytest.fixture
def bridge(aws: LocalResources, core_endpoint: CoreEndpoint) -> LambdaBridge:
    _, resolver = load_project_handlers()
    return LambdaBridge(resolver=resolver)


def _claim(**overrides: Any) -> str:
    enc = make_encounter(clinic_id="clinic-northside", **overrides)
    claim = new_claim(enc, "encounters/t.json", 1)
    wiring.repository().create_claim(claim)
    return claim.claim_id


def _status(claim_id: str) -> S:
    return wiring.repository().get_claim(claim_id).status


def _fixture_member(active: bool) -> tuple[str, str]:
    import json
    from importlib import resources

    fixture = json.loads(resources.files("medbill.data").joinpath("eligibility_fixture.json").read_text())
    for payer, members in fixture.items():
        for member, info in members.items():
            if bool(info.get("active")) is active:
                return payer, member
    raise AssertionError("fixture has no such member")


def _coverage(active: bool) -> dict[str, str]:
    payer, member = _fixture_member(active)
    return {"payer_id": payer, "payer_name": "TEST PAYER", "member_id": member}


def test_happy_path_stages_in_order(bridge: LambdaBridge, aws: LocalResources) -> None:
    claim_id = _claim(coverage=_coverage(active=True))
    first = bridge.call("registration", {"claim_id": claim_id})
    again = bridge.call("registration", {"claim_id": claim_id})  # a Step Functions retry
    assert first == again and first["patient_id"].startswith("PAT")
    assert bridge.call("eligibility", {"claim_id": claim_id}) == {"decision": "eligible", "rules": []}
    assert bridge.call("coding", {"claim_id": claim_id}) == {"decision": "coded", "rules": []}
    charges = bridge.call("charges", {"claim_id": claim_id})
    claim = wiring.repository().get_claim(claim_id)
    assert charges == {"total_charge": f"{claim.total_charge:.2f}"}
    assert claim.total_charge == sum((line.charge or Decimal(0) for line in claim.lines), Decimal(0)) > 0
    sub = bridge.call("submission", {"claim_id": claim_id})
    assert bridge.call("submission", {"claim_id": claim_id}) == sub  # retry writes nothing new
    claim = wiring.repository().get_claim(claim_id)
    assert claim.status == S.SUBMITTED
    outbox = wiring.artifacts().read(claim.outbox_key or "").decode()
    assert pyx12_errors(outbox) == []
    assert f"CLM*{claim_id}*{claim.total_charge:.2f}" in outbox
    assert f"REF*6R*{claim_id}-01" in outbox
    parked = bridge.call(
        "await_token", {"claim_id": claim_id, "wait": "remittance", "stage": "remittance", "task_token": "tok-1"}
    )
    assert parked == {"parked": True}
    claim = wiring.repository().get_claim(claim_id)
    assert claim.status == S.AWAITING_REMITTANCE and claim.task_token == "tok-1"
    timeline = [e.new_status for e in wiring.repository().events(claim_id)]
    # CHARGED twice: the second event reserves the interchange control number before the file is written.
    assert timeline == [
        "RECEIVED",
        "REGISTERED",
        "ELIGIBLE",
        "CODED",
        "CHARGED",
        "CHARGED",
        "SUBMITTED",
        "AWAITING_REMITTANCE",
    ]
    assert len(wiring.artifacts()._client.list_objects_v2(Bucket=aws.bucket, Prefix="outbox/837/")["Contents"]) == 1


def test_inactive_coverage_holds_with_reason(bridge: LambdaBridge) -> None:
    claim_id = _claim(coverage=_coverage(active=False))
    bridge.call("registration", {"claim_id": claim_id})
    result = bridge.call("eligibility", {"claim_id": claim_id})
    assert result == {"decision": "hold", "rules": ["ELIG-COVERAGE-INACTIVE"]}
    assert "is not active" in wiring.repository().get_claim(claim_id).hold_reasons[0]
    assert _status(claim_id) == S.ELIGIBILITY_HOLD


def test_non_billable_diagnosis_holds_at_coding(bridge: LambdaBridge) -> None:
    claim_id = _claim(coverage=_coverage(active=True), diagnoses=["E11", "I10"])
    for stage in ("registration", "eligibility"):
        bridge.call(stage, {"claim_id": claim_id})
    result = bridge.call("coding", {"claim_id": claim_id})
    assert result == {"decision": "hold", "rules": ["DX-BILLABLE"]}
    assert any("diagnosis 1 is a category" in r for r in wiring.repository().get_claim(claim_id).hold_reasons)
    assert _status(claim_id) == S.CODING_HOLD


def test_unknown_clinic_fee_schedule_holds_at_coding(aws: LocalResources, core_endpoint: CoreEndpoint) -> None:
    _, resolver = load_project_handlers()
    bridge = LambdaBridge(resolver=resolver)
    enc = make_encounter(clinic_id="clinic-nowhere", coverage=_coverage(active=True))
    claim = new_claim(enc, "encounters/t.json", 1)
    wiring.repository().create_claim(claim)
    for stage in ("registration", "eligibility"):
        bridge.call(stage, {"claim_id": claim.claim_id})
    result = bridge.call("coding", {"claim_id": claim.claim_id})
    assert result == {"decision": "hold", "rules": ["FEE-SCHEDULE"]}
    assert any("clinic-nowhere" in r for r in wiring.repository().get_claim(claim.claim_id).hold_reasons)


def test_followup_and_fail_actions(bridge: LambdaBridge) -> None:
    claim_id = _claim(coverage=_coverage(active=False))
    bridge.call("registration", {"claim_id": claim_id})
    bridge.call("eligibility", {"claim_id": claim_id})
    result = bridge.call("followup", {"claim_id": claim_id, "action": "follow_up", "outcome": "hold_expired"})
    assert result == {"status": "FOLLOW_UP", "action": "review_hold"}
    other = _claim(encounter_id="ENC-FAIL")
    assert bridge.call("followup", {"claim_id": other, "action": "fail", "error": "States.TaskFailed"}) == {
        "status": "FAILED"
    }
    claim = wiring.repository().get_claim(other)
    assert claim.hold_reasons == ["workflow error: States.TaskFailed"]


def test_bad_payload_is_a_clear_error(bridge: LambdaBridge) -> None:
    invocation = bridge.invoke("registration", {"nope": 1})
    assert invocation.function_error == "Unhandled"
    assert b"claim_id" in invocation.payload


def test_intake_summary_counts_records_and_reports_duplicates(aws: LocalResources) -> None:
    from pathlib import Path

    from medbill.workflow.intake import ingest_encounter_file

    sample = Path(__file__).resolve().parents[2] / "events" / "encounters" / "northside-2026-11-20.json"

    class Starts:
        def __init__(self) -> None:
            self.started: list[str] = []

        def start_claim(self, claim_id: str, clinic_id: str) -> bool:
            self.started.append(claim_id)
            return True

    starts = Starts()
    store = wiring.artifacts()
    store.write("encounters/n.json", sample.read_bytes())
    first = ingest_encounter_file(wiring.repository(), store, starts, "encounters/n.json")  # type: ignore[arg-type]
    assert (first.records, first.claims_created, first.rejected) == (10, 9, 1)
    again = ingest_encounter_file(wiring.repository(), store, starts, "encounters/n.json")  # type: ignore[arg-type]
    assert (again.records, again.claims_created, again.claims_existing, again.rejected) == (10, 0, 9, 1)
    store.write("encounters/copy.json", sample.read_bytes())
    copy = ingest_encounter_file(wiring.repository(), store, starts, "encounters/copy.json")  # type: ignore[arg-type]
    assert (copy.records, copy.claims_created, copy.rejected) == (10, 0, 10)
    report = json.loads(store.read("rejections/encounters/copy.json"))
    assert report["counts"] == {"records": 10, "accepted": 0, "rejected": 10}


def test_a_file_with_nothing_rejected_still_gets_its_report(aws: LocalResources) -> None:
    from pathlib import Path

    from medbill.workflow.intake import ingest_encounter_file

    class Starts:
        def start_claim(self, claim_id: str, clinic_id: str) -> bool:
            return True

    sample = Path(__file__).resolve().parents[2] / "events" / "encounters" / "lakeview-2026-11-20.csv"
    store = wiring.artifacts()
    store.write("encounters/clean.csv", sample.read_bytes())
    summary = ingest_encounter_file(wiring.repository(), store, Starts(), "encounters/clean.csv")  # type: ignore[arg-type]
    assert (summary.rejected, summary.claims_created) == (0, 6)
    report = json.loads(store.read("rejections/encounters/clean.csv.json"))
    assert report["counts"] == {"records": 6, "accepted": 6, "rejected": 0} and report["rejections"] == []
    assert sorted(a["claim_id"] for a in report["accepted"]) == sorted(summary.claim_ids)
    assert report["complete"] is True


def test_a_long_file_continues_in_parts_and_ends_complete(aws: LocalResources) -> None:
    from pathlib import Path

    from medbill.workflow.intake import ingest_encounter_file

    sample = Path(__file__).resolve().parents[2] / "events" / "encounters" / "northside-2026-11-20.json"
    starts: list[str] = []

    class Starts:
        def start_claim(self, claim_id: str, clinic_id: str) -> bool:
            starts.append(claim_id)
            return True

    store, repo = wiring.artifacts(), wiring.repository()
    store.write("encounters/first.json", sample.read_bytes())
    ingest_encounter_file(repo, store, Starts(), "encounters/first.json")  # type: ignore[arg-type]
    records = json.loads(sample.read_text())
    # A second file: two encounters already billed from the first file, then three new ones.
    second = [records[0], records[1]] + [
        {**r, "encounter_id": r["encounter_id"] + "-B"} for r in (records[3], records[4], records[5])
    ]
    store.write("encounters/second.json", json.dumps(second))
    starts.clear()
    budget = iter([False, True, False, True, False, True, False, True])  # out of time after every 2 records
    parts = []
    summary = ingest_encounter_file(
        repo, store, Starts(), "encounters/second.json", out_of_time=lambda: next(budget, True)
    )  # type: ignore[arg-type]
    parts.append(summary)
    while summary.continue_from:
        summary = ingest_encounter_file(
            repo,
            store,
            Starts(),
            "encounters/second.json",
            start_record=summary.continue_from,
            out_of_time=lambda: True,  # type: ignore[arg-type]
        )
        parts.append(summary)
    assert [p.continue_from for p in parts] == [3, 4, 5, None]
    assert sum(p.claims_created for p in parts) == 3 and len(starts) == 3
    report = json.loads(store.read("rejections/encounters/second.json"))
    assert report["complete"] is True
    assert sorted(r["record_number"] for r in report["rejections"]) == [1, 2]  # both duplicates, found in part 1
    assert all("already received as claim" in r["reason"] for r in report["rejections"])
