"""Bill the next payer: the follow-up rules said `bill_secondary` (a payer adjudicated and left a
patient share, and the encounter has a further coverage), so the same claim goes to that payer as a
secondary (or, after the secondary, tertiary) 837P with the earlier payers' adjudications.

The claim keeps its id (CLM01): the next payer's 835 names it in CLP01 and posts to the same ledger
at its level (CLP02 2 / 3), as decision 11 already counts payer by payer. The file goes the way every
837P goes: `outbox/837/`, then the clearinghouse. Safe to run twice (Step Functions retries):

1. FOLLOW_UP + `bill_secondary`: reserve. The claim moves to the next payer (`payer_sequence`), takes
   the earlier payer's adjudication from its ledger, and a new interchange control number and outbox
   key (the primary's file is never rewritten), with the action `submitting_next_payer`.
2. FOLLOW_UP + `submitting_next_payer`: write the file to the reserved key (a retry rewrites the same
   key with the same control number), then SUBMITTED; the claim leaves the worklists.
3. Already SUBMITTED or past it for this payer: the recorded result.

A crossover (CLP02 19/20/21) never gets here: the follow-up waits for the crossover payer
(`await_crossover_payer`), so no duplicate secondary claim is sent.
"""

from __future__ import annotations

from medbill.billing.claim_updates import save_claim, with_lock_retry
from medbill.billing.cob import next_payer_sequence, prior_adjudication
from medbill.models.claim import PAYER_RESPONSIBILITY, Claim, Filing
from medbill.models.common import utcnow
from medbill.models.status import ClaimStatus as S
from medbill.ports import Artifacts, ClaimStore
from medbill.workflow.results import Submitted
from medbill.workflow.stages import Submitter

BILL_SECONDARY = "bill_secondary"
SUBMITTING = "submitting_next_payer"


class CannotBillNextPayer(Exception):
    """The claim is not waiting to be billed to its next payer (ids and states only)."""


def _reserve(repo: ClaimStore, claim: Claim, prefix: str) -> Claim:
    sequence = next_payer_sequence(claim)
    if sequence is None:
        raise CannotBillNextPayer(f"claim {claim.claim_id}: no coverage after payer {claim.payer_sequence}")
    prior = prior_adjudication(claim, repo.ledger_entries(claim.claim_id), claim.payer_sequence)
    if prior is None:
        raise CannotBillNextPayer(f"claim {claim.claim_id}: payer {claim.payer_sequence} has no adjudication in force")
    number = repo.next_counter("x12-interchange")
    control = str(number).zfill(9)
    key = f"{prefix}{claim.claim_id}-{control}.x12"
    # Proof of filing for this payer's 837P, as stages.submit keeps it for the first; the interchange is
    # recorded so its 999 (which names GS06 / ST02 only) finds the claim.
    filing = Filing(
        outbox_key=key,
        interchange_control_number=control,
        group_control_number=str(number),
        transaction_control_number=f"{number:04d}",
        written_at=utcnow().replace(microsecond=0),
    )
    repo.record_interchange(number, claim.claim_id)
    kept = [p for p in claim.prior_adjudications if p.sequence < prior.sequence]
    return repo.save(
        claim.model_copy(
            update={
                "payer_sequence": sequence,
                "prior_adjudications": [*kept, prior],
                "interchange_control_number": control,
                "outbox_key": key,
                "filing": filing,
                "follow_up_action": SUBMITTING,
            }
        ),
        actor="submission",
        detail={
            "interchange_control_number": control,
            "reserved": True,
            "payer_responsibility": PAYER_RESPONSIBILITY[sequence],
            "payer_id": claim.encounter.coverages[sequence - 1][0].payer_id,
        },
    )


def submit_next_payer(repo: ClaimStore, store: Artifacts, submitter: Submitter, claim_id: str) -> Submitted:
    """Write and send the claim's 837P to its next payer (see the module doc for the steps)."""

    def step(claim: Claim) -> Submitted:
        if claim.status != S.FOLLOW_UP and claim.payer_sequence > 1:
            return Submitted(interchange_control_number=claim.interchange_control_number)
        if claim.status != S.FOLLOW_UP or claim.follow_up_action not in (BILL_SECONDARY, SUBMITTING):
            raise CannotBillNextPayer(
                f"claim {claim.claim_id} is {claim.status.value} ({claim.follow_up_action}), not to be billed on"
            )
        if claim.follow_up_action == BILL_SECONDARY:
            claim = _reserve(repo, claim, submitter.outbox_prefix)
        filing = claim.filing
        if filing is None:  # reserved above; a claim reserved before filings were kept gets one now
            raise CannotBillNextPayer(f"claim {claim.claim_id}: no filing reserved for payer {claim.payer_sequence}")
        control, key = filing.interchange_control_number, filing.outbox_key
        # The reserved creation time: a retry writes the same bytes to the same key.
        store.write(key, submitter.write(claim, int(control), filing.written_at), "application/edi-x12")
        cleared = {
            "follow_up_reason": None,
            "follow_up_action": None,
            "follow_up_category": None,
            "follow_up_amount": None,
            "follow_up_due": None,
            "follow_up_since": None,
            "task_token": None,
            # The next payer has not answered yet: a wait that times out must follow up on its
            # silence (a status inquiry), not on the earlier payer's outcome. Its 835 sets it again.
            "remittance_outcome": None,
        }
        save_claim(
            repo,
            claim.model_copy(update=cleared),
            actor="submission",
            new_status=S.SUBMITTED,
            detail={"outbox_key": key, "payer_responsibility": PAYER_RESPONSIBILITY[claim.payer_sequence]},
        )
        return Submitted(interchange_control_number=control)

    return with_lock_retry(repo, claim_id, step)
