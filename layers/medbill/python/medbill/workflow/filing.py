"""Proof of filing: which 837P carried a claim, its control numbers, when it was written and put on
the clearinghouse, and the 999 / 277CA that answered (file, time, verdict). Submission records the
file (stages.submit), the clearinghouse exchange the send (`record_sent`, its `on_sent` hook), the
acks function the answers (workflow.acknowledgements); `GET /claims/{id}` shows them
(`filing_view`). Ids, keys, times and codes only."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from medbill.billing.claim_updates import with_lock_retry
from medbill.models.claim import Claim
from medbill.ports import ClaimStore

__all__ = ["AcknowledgementView", "FilingView", "filing_view", "record_sent"]


def _control_of(outbox_key: str) -> int | None:
    """outbox/837/<claim id>-<ISA13>.x12 -> ISA13 as a number (stages.submit names the file)."""
    stem = outbox_key.rsplit("/", 1)[-1].removesuffix(".x12")
    _, _, control = stem.rpartition("-")
    return int(control) if control.isdigit() else None


def record_sent(repo: ClaimStore, outbox_key: str, remote_name: str, sent_at: datetime) -> list[str]:
    """Stamp the send on every claim the file carried (once: the first send is the filing date).
    The claims whose filing changed; a key that is not one of our 837Ps changes nothing."""
    control = _control_of(outbox_key)
    if control is None:
        return []
    stamped = []
    for claim_id in repo.claims_for_interchange(control):

        def step(claim: Claim) -> bool:
            filing = claim.filing
            if filing is None or filing.outbox_key != outbox_key or filing.sent_at is not None:
                return False
            sent = filing.model_copy(update={"sent_at": sent_at, "sent_name": remote_name})
            detail = {"sent_at": sent_at.isoformat(), "remote_name": remote_name, "outbox_key": outbox_key}
            repo.save(claim.model_copy(update={"filing": sent}), actor="clearinghouse", detail=detail)
            return True

        if repo.claim_exists(claim_id) and with_lock_retry(repo, claim_id, step):
            stamped.append(claim_id)
    return stamped


class AcknowledgementView(BaseModel):
    kind: str  # 999 or 277CA
    file: str
    received_at: str
    verdict: str
    codes: list[str]
    reason: str | None
    payer_claim_number: str | None


class FilingView(BaseModel):
    file: str  # the 837P's key in the bucket
    interchange_control_number: str  # ISA13
    group_control_number: str  # GS06
    transaction_control_number: str  # ST02
    written_at: str
    sent_at: str | None  # put on the clearinghouse (SFTP)
    sent_name: str | None
    acknowledgements: list[AcknowledgementView]


def filing_view(claim: Claim) -> FilingView | None:
    f = claim.filing
    if f is None:
        return None
    return FilingView(
        file=f.outbox_key,
        interchange_control_number=f.interchange_control_number,
        group_control_number=f.group_control_number,
        transaction_control_number=f.transaction_control_number,
        written_at=f.written_at.isoformat(),
        sent_at=f.sent_at.isoformat() if f.sent_at else None,
        sent_name=f.sent_name,
        acknowledgements=[
            AcknowledgementView(
                kind=a.kind,
                file=a.key,
                received_at=a.received_at.isoformat(),
                verdict=a.verdict,
                codes=a.codes,
                reason=a.reason,
                payer_claim_number=a.payer_claim_number,
            )
            for a in claim.acknowledgements
        ],
    )
