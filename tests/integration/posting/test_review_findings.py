"""Regressions for the code review of the posting path (each test failed before its fix)."""

from __future__ import annotations

import base64
import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from infra.local.provision import LocalResources
from medbill.entry import wiring
from medbill.models.claim import Claim
from medbill.models.status import ClaimStatus as S
from medbill.ports import BadPageToken, ConcurrentUpdate
from tests.integration.posting.conftest import Posting, make_claim

D = Decimal
DOS = date(2026, 10, 5)
LINES = [("99213", ["25"], "120.00"), ("36415", [], "30.00")]


def _claim(p: Posting, claim_id: str) -> Claim:
    return make_claim(p.repo, claim_id, dos=DOS, lines=LINES)


def test_submission_retry_writes_one_837(
    aws: LocalResources, core_endpoint: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from medbill.workflow.stages import code, enter_charges, register, submit, verify_eligibility
    from tests.integration.test_stage_handlers import _claim as new_stage_claim
    from tests.integration.test_stage_handlers import _coverage

    repo = wiring.repository()
    claim_id = new_stage_claim(coverage=_coverage(active=True))
    register(repo, claim_id)
    verify_eligibility(repo, wiring.eligibility(), claim_id)
    code(repo, wiring.fee_schedule, claim_id)
    enter_charges(repo, wiring.fee_schedule, claim_id)
    real_save = repo.save
    failures = {"left": 1}

    def flaky_save(claim: Claim, **kwargs: Any) -> Claim:
        if kwargs.get("new_status") == S.SUBMITTED and failures["left"]:
            failures["left"] -= 1
            raise ConcurrentUpdate(claim.claim_id)  # lost the race after the file was written
        return real_save(claim, **kwargs)

    monkeypatch.setattr(repo, "save", flaky_save)
    submit(repo, wiring.artifacts(), wiring.submitter(), claim_id)
    listed = wiring.artifacts()._client.list_objects_v2(Bucket=aws.bucket, Prefix="outbox/837/")["Contents"]
    assert len(listed) == 1
    assert repo.get_claim(claim_id).status == S.SUBMITTED


def test_forged_page_token_is_a_client_error(aws: LocalResources) -> None:
    forged = base64.urlsafe_b64encode(json.dumps({"pk": {"S": "X"}}).encode()).decode()
    with pytest.raises(BadPageToken):
        wiring.repository().list_claims(status="RECEIVED", next_token=forged)
