"""The acks function on moto: an acknowledgement put under `acks/` notifies the acks queue (local
provisioning from infra.config), the poller hands the batch to functions/acks, and the claim
follows the answer. The same object delivered twice is applied once."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources

import pytest

from infra import config
from infra.local.lambda_bridge import LambdaBridge, load_project_handlers
from infra.local.provision import LocalResources
from infra.local.sqs_poller import SqsPoller
from medbill.entry import wiring
from medbill.models.status import ClaimStatus as S
from medbill.workflow.intake import new_claim
from medbill.x12.ack277ca import StatusCode, write_277ca
from medbill.x12.ack999 import write_999
from medbill.x12.claim837 import ControlNumbers
from tests.factories import make_encounter

CREATED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def bridge(aws: LocalResources, core_endpoint: object) -> LambdaBridge:  # eligibility asks the CORE endpoint
    _, resolver = load_project_handlers()
    return LambdaBridge(resolver=resolver)


def _active_coverage() -> dict[str, str]:
    fixture = json.loads(resources.files("medbill.data").joinpath("eligibility_fixture.json").read_text())
    payer, member = next((p, m) for p, ms in fixture.items() for m, info in ms.items() if info.get("active"))
    return {"payer_id": payer, "payer_name": "TEST PAYER", "member_id": member}


def _submitted(bridge: LambdaBridge, encounter_id: str) -> str:
    enc = make_encounter(encounter_id=encounter_id, clinic_id="clinic-northside", coverage=_active_coverage())
    claim = new_claim(enc, "encounters/t.json", 1)
    wiring.repository().create_claim(claim)
    for stage in ("registration", "eligibility", "coding", "charges", "submission"):
        bridge.call(stage, {"claim_id": claim.claim_id})
    payload = {"claim_id": claim.claim_id, "wait": "remittance", "stage": "remittance", "task_token": "tok-1"}
    assert bridge.call("await_token", payload) == {"parked": True}
    return claim.claim_id


def test_acks_route_through_the_queue_to_the_function(bridge: LambdaBridge, aws: LocalResources) -> None:
    assert config.LOCAL_NOTIFICATIONS["acks/"] is config.ACKS_QUEUE
    accepted, rejected = _submitted(bridge, "E1"), _submitted(bridge, "E2")
    repo, files = wiring.repository(), wiring.artifacts()
    outbox = {cid: files.read(repo.get_claim(cid).outbox_key or "").decode() for cid in (accepted, rejected)}
    files.write(
        "acks/999/one.999", write_999(outbox[accepted], control_numbers=ControlNumbers(90, 90), created=CREATED)
    )
    files.write(
        "acks/277ca/one.277ca",
        write_277ca(
            outbox[accepted],
            control_numbers=ControlNumbers(91, 91),
            created=CREATED,
            payer_claim_number=lambda _cid: "PCN1",
        ),
    )
    files.write(
        "acks/277ca/two.277ca",
        write_277ca(
            outbox[rejected],
            control_numbers=ControlNumbers(92, 92),
            created=CREATED,
            rejected={rejected: [StatusCode(category="A7", code="562", entity="85")]},
        ),
    )
    poller = SqsPoller(aws, bridge, queues=[config.ACKS_QUEUE])

    assert poller.drain() >= 3
    assert [r.failed for r in poller.history] == [0] * len(poller.history)

    a, r = repo.get_claim(accepted), repo.get_claim(rejected)
    assert (a.status, a.payer_claim_number, a.task_token) == (S.ACCEPTED, "PCN1", "tok-1")
    assert [(x.kind, x.verdict) for x in a.acknowledgements] == [("999", "accepted"), ("277CA", "accepted")]
    assert (r.status, r.task_token) == (S.REJECTED, None)
    assert r.rejection_reason == (
        "277CA rejected: A7:562:85 Acknowledgement/Rejected for invalid information: "
        "Entity's National Provider Identifier (NPI) (billing provider)"
    )
    # The same object again (a redelivery): nothing changes.
    events = len(repo.events(rejected))
    files.write("acks/277ca/two.277ca", files.read("acks/277ca/two.277ca"))
    poller.drain()
    assert len(repo.events(rejected)) == events
