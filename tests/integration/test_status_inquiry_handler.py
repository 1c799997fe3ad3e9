"""The status_inquiry function on moto (decision 24): a claim waiting past its payer's
status_ack_hours (payer_policies.json, here 0) gets a 276 in outbox/276/ under the deployment's
envelope identity, the claim is stamped, a second run asks nothing; the payer's 277 put under
status/277/ notifies the acks queue and the acks function records it. Logs carry no PHI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from infra import config
from infra.local.lambda_bridge import LambdaBridge, load_project_handlers
from infra.local.provision import LocalResources
from infra.local.sqs_poller import SqsPoller
from medbill.billing import payer_policy
from medbill.entry import wiring
from medbill.models.status import ClaimStatus as S
from medbill.x12.ack277ca import StatusCode
from medbill.x12.claim837 import ControlNumbers
from medbill.x12.status276 import StatusAnswer, read_276_claims, write_277
from medbill.x12.tokenizer import tokenize
from tests.integration.test_acks_handler import _submitted


@pytest.fixture
def handlers(aws: LocalResources, core_endpoint: object) -> LambdaBridge:  # eligibility asks the CORE endpoint
    _, resolver = load_project_handlers()
    return LambdaBridge(resolver=resolver)


@pytest.fixture
def ask_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    path = tmp_path / "policies.json"
    path.write_text(json.dumps({"default": {"status_ack_hours": 0, "status_remittance_days": 0}}))
    monkeypatch.setenv(payer_policy.POLICIES_ENV, str(path))
    payer_policy._document.cache_clear()
    yield
    payer_policy._document.cache_clear()


@pytest.mark.usefixtures("ask_at_once")
def test_a_quiet_claim_is_asked_about_and_the_277_is_recorded(
    handlers: LambdaBridge, aws: LocalResources, capsys: pytest.CaptureFixture[str]
) -> None:
    bridge = handlers
    claim_id = _submitted(bridge, "E-STATUS")
    repo, files = wiring.repository(), wiring.artifacts()
    claim = repo.get_claim(claim_id)
    capsys.readouterr()

    result = bridge.call("status_inquiry", {})

    (key,) = result["files"]
    assert key.startswith(config.OUTBOX_276_PREFIX) and key.endswith(".x12")
    assert (result["due"], result["asked"], result["problems"]) == (1, 1, [])
    text = files.read(key).decode()
    assert [q["claim_id"] for q in read_276_claims(text)] == [claim_id]
    isa = next(iter(tokenize(text)))
    assert (isa.get(6).strip(), isa.get(8).strip(), isa.get(15)) == ("MEDBILL", "CLEARINGHOUSE", "T")
    stamped = repo.get_claim(claim_id)
    assert stamped.status_inquiry is not None and stamped.status_inquiry.key == key
    assert bridge.call("status_inquiry", {})["files"] != []  # ack_hours 0: every run asks again
    logs = capsys.readouterr().out
    enc = claim.encounter
    phi = {
        enc.patient.last_name,
        enc.patient.first_name,
        enc.coverage.member_id,
        enc.patient.date_of_birth.strftime("%Y%m%d"),
    }
    assert "claim status inquiries written" in logs
    assert not [v for v in phi if v in logs]

    answer = write_277(
        [
            StatusAnswer(
                claim_id=claim_id,
                payer_id=claim.payer_id,
                status=StatusCode(category="A4", code="35"),
                effective=datetime(2026, 3, 5, tzinfo=UTC),
                total_charge=stamped.total_charge or 0,
            )
        ],
        sender_id="CLEARINGHOUSE",
        receiver_id="MEDBILL",
        control_numbers=ControlNumbers(93, 93),
        created=datetime(2026, 3, 5, tzinfo=UTC),
    )
    files.write(f"{config.STATUS_277_PREFIX}abc-answer.277", answer)
    poller = SqsPoller(aws, bridge, queues=[config.ACKS_QUEUE])
    assert poller.drain() >= 1
    assert [r.failed for r in poller.history] == [0] * len(poller.history)
    done = repo.get_claim(claim_id)
    assert (done.status, done.task_token) == (S.REJECTED, None)  # not found: resubmit at once
    assert done.rejection_reason == "277 claim status: A4:35 Acknowledgement/Not found: Claim/encounter not found"
    assert [(a.kind, a.verdict) for a in done.acknowledgements][-1] == ("277", "rejected")
