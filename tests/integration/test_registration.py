"""Patient registration against moto: random patient ids, matching through the lookup item."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from moto import mock_aws

from infra.local.lambda_bridge import LambdaBridge, load_project_handlers
from infra.local.provision import LocalResources, provision
from medbill.adapters.dynamodb.repository import ClaimRepository
from medbill.entry import wiring
from medbill.workflow.intake import new_claim
from medbill.workflow.stages import patient_match_key, register
from tests.factories import make_encounter
from tests.integration.conftest import MOTO_CONFIG

PATIENT_ID = re.compile(r"^PAT[A-Z2-7]{16}$")


def _claim(encounter_id: str, clinic_id: str = "clinic-northside", **overrides: Any) -> str:
    claim = new_claim(
        make_encounter(clinic_id=clinic_id, encounter_id=encounter_id, **overrides), "encounters/t.json", 1
    )
    wiring.repository().create_claim(claim)
    return claim.claim_id


def _register(claim_id: str) -> str:
    patient_id = register(wiring.repository(), claim_id).patient_id
    assert isinstance(patient_id, str)
    return patient_id


def _all_items(repo: ClaimRepository) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": repo.table_name}
    while True:
        resp = repo._client.scan(**kwargs)
        items += resp.get("Items", [])
        if "LastEvaluatedKey" not in resp:
            return items
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def test_same_person_gets_the_same_random_id_across_claims_and_clinics(aws: LocalResources) -> None:
    first = _register(_claim("E-1"))
    assert PATIENT_ID.match(first)
    # Another visit at another clinic, the same person written differently (case, spaces).
    second = _register(
        _claim(
            "E-2",
            clinic_id="clinic-lakeview",
            patient__last_name="  zzyzxcanary ",
            patient__first_name="quillon",
            coverage__member_id=" mbrcanary7731",
        )
    )
    assert second == first
    patient = wiring.repository().get_patient(first)
    assert patient is not None and patient["demographics"]["clinic_id"] == "clinic-lakeview"  # refreshed


def test_a_different_dob_or_member_is_a_different_patient(aws: LocalResources) -> None:
    first = _register(_claim("E-1"))
    other_dob = _register(_claim("E-2", patient__date_of_birth="1961-07-20"))
    other_member = _register(_claim("E-3", coverage__member_id="MBRCANARY7732"))
    assert len({first, other_dob, other_member}) == 3
    assert all(PATIENT_ID.match(p) for p in (other_dob, other_member))


def test_register_is_idempotent_and_records_the_patient_once(aws: LocalResources) -> None:
    repo = wiring.repository()
    claim_id = _claim("E-1")
    first = _register(claim_id)
    assert _register(claim_id) == first  # a Step Functions retry
    assert repo.get_claim(claim_id).patient_id == first
    events = [e for e in repo.events(claim_id) if e.new_status == "REGISTERED"]
    assert [e.detail for e in events] == [{"patient_id": first, "new_patient": True}]
    assert _register(_claim("E-2")) == first


def test_the_id_is_not_derived_from_the_person() -> None:
    """Two fresh tables, the same person: unrelated ids (nothing to recompute from a candidate list)."""
    ids = []
    for _ in range(2):
        with mock_aws(config=MOTO_CONFIG):  # type: ignore[arg-type]
            provision()
            wiring.reset()
            try:
                ids.append(_register(_claim("E-1")))
            finally:
                wiring.reset()
    assert ids[0] != ids[1]
    assert all(PATIENT_ID.match(p) for p in ids)


def test_the_match_hash_never_leaves_the_lookup_item(aws: LocalResources, capsys: pytest.CaptureFixture[str]) -> None:
    _, resolver = load_project_handlers()
    bridge = LambdaBridge(resolver=resolver)
    repo = wiring.repository()
    claim_id = _claim("E-1")
    output = bridge.call("registration", {"claim_id": claim_id})  # what becomes execution output
    key_hash = patient_match_key(repo.get_claim(claim_id))
    assert set(output) == {"patient_id"} and PATIENT_ID.match(output["patient_id"])
    assert key_hash not in json.dumps(output)
    assert key_hash not in json.dumps([e.__dict__ for e in repo.events(claim_id)])
    assert key_hash not in repo.get_claim(claim_id).model_dump_json()
    assert key_hash not in json.dumps(repo.get_patient(output["patient_id"]), default=str)
    # In the whole table, the hash is only the lookup item's key.
    holders = [item for item in _all_items(repo) if key_hash in json.dumps(item)]
    assert holders == [
        {"pk": {"S": f"PATIENTKEY#{key_hash}"}, "sk": {"S": "PATIENTKEY"}, "patient_id": {"S": output["patient_id"]}}
    ]
    logged = capsys.readouterr()
    assert key_hash not in logged.out and key_hash not in logged.err


def test_two_registrations_racing_for_a_new_patient_end_with_one_id(aws: LocalResources) -> None:
    """A reads no lookup item; before it claims one, B registers the same person. A's conditional
    put fails, A reads B's id and uses it: one patient, one id. (Simulated deterministically:
    moto's in-memory tables are not thread-safe, so real threads would test moto, not us.)"""
    repo = wiring.repository()
    claim_a, claim_b = _claim("E-1"), _claim("E-2", clinic_id="clinic-lakeview")
    real_lookup = repo.patient_id_for_match_key
    raced: list[str] = []

    def stale_first_lookup(key_hash: str) -> str | None:
        if not raced:
            raced.append("B running")
            raced.append(_register(claim_b))  # B wins while A is between its read and its put
            return None  # what A read before B wrote
        return real_lookup(key_hash)

    claims: list[bool] = []
    real_claim = repo.claim_patient_key

    def record_claim(key_hash: str, patient_id: str) -> bool:
        claims.append(won := real_claim(key_hash, patient_id))
        return won

    repo.patient_id_for_match_key = stale_first_lookup  # type: ignore[method-assign]
    repo.claim_patient_key = record_claim  # type: ignore[method-assign]
    patient_a = _register(claim_a)
    assert claims == [True, False]  # B claimed the key; A's conditional put lost
    assert patient_a == raced[1]
    assert repo.get_claim(claim_a).patient_id == repo.get_claim(claim_b).patient_id == patient_a
    patients = [i for i in _all_items(repo) if i["pk"]["S"].startswith("PATIENT#")]
    lookups = [i for i in _all_items(repo) if i["pk"]["S"].startswith("PATIENTKEY#")]
    assert len(patients) == 1 and len(lookups) == 1
    assert lookups[0]["patient_id"]["S"] == patient_a
