"""Reading a 277CA: every level status and claim verdict; the summary and validate views (no PHI)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from medbill.x12.ack277ca.models import (
    ACCEPTED_CATEGORIES,
    LEVELS,
    PENDING_CATEGORIES,
    Ack277CA,
    ClaimAck,
    LevelStatus,
    Outcome,
    StatusCode,
    StatusInfo,
    rejects,
)
from medbill.x12.datatypes import X12NumberError, parse_r
from medbill.x12.envelope import EnvelopeReader
from medbill.x12.tokenizer import Segment

__all__ = ["check_277ca", "read_277ca", "summarize_277ca"]


def _amount(text: str) -> Decimal | None:
    """A strict X12 R amount; None when absent or not a number."""
    return parse_r(text) if text else None


def _stc(seg: Segment, problems: list[str]) -> StatusInfo:
    comp = seg.delimiters.component if seg.delimiters else ":"
    codes = []
    for n in (1, 10, 11):
        value = seg.get(n)
        if value:
            codes.append(StatusCode.parse(value.replace(comp, ":")))
    amount = _amount(seg.get(4))
    if amount is None and seg.get(4):
        problems.append(f"STC at segment {seg.position}: {X12NumberError('STC04', seg.get(4))}.")
    return StatusInfo(codes=tuple(codes), action=seg.get(3), amount=amount)


def _outcome(statuses: Sequence[StatusInfo], inherited: Sequence[StatusInfo]) -> Outcome:
    # A rejection above the claim (information source / receiver = the whole batch, or the billing
    # provider) rejects every claim under it, whatever the claim's own STC says.
    if rejects(statuses) or rejects(inherited):
        return "rejected"
    categories = {cat for s in statuses for cat in s.categories}
    if categories & PENDING_CATEGORIES:
        return "pending"
    if categories & ACCEPTED_CATEGORIES:
        return "accepted"
    return "unknown"


class _TransactionReader:
    """One 277 transaction: the HL tree read so far, the level or claim being read and its service line."""

    def __init__(self, result: Ack277CA, st02: str) -> None:
        self.result = result
        self.st02 = st02
        self.levels: dict[str, LevelStatus] = {}
        self.parents: dict[str, str] = {}
        self.claims: list[tuple[ClaimAck, list[LevelStatus]]] = []  # each claim with its ancestor levels
        self.level: LevelStatus | None = None
        self.chain: list[LevelStatus] = []  # ancestors of the current patient level
        self.claim: ClaimAck | None = None
        self.in_line = False
        self.line_ref = ""

    def read(self, segments: list[Segment]) -> None:
        for seg in segments:
            sid = seg.id
            if sid == "HL":
                self.hl(seg)
            elif sid == "NM1" and self.level is not None:
                self.level.entity_id = seg.get(9)
            elif sid == "TRN":
                self.trn(seg)
            elif sid == "STC":
                self.stc(seg)
            elif sid == "REF" and self.claim is not None:
                self.ref(seg, self.claim)
            elif sid == "SVC" and self.claim is not None:
                self.in_line = True
                self.line_ref = ""
        for c, chain_levels in self.claims:
            inherited = [s for lv in chain_levels for s in lv.statuses]
            c.outcome = _outcome(c.statuses, inherited)
            c.total_charge = next((s.amount for s in c.statuses if s.amount is not None), None)

    def hl(self, seg: Segment) -> None:
        self.claim, self.in_line = None, False
        hl_id, parent, code = seg.get(1), seg.get(2), seg.get(3)
        self.parents[hl_id] = parent
        if code == "PT":
            self.level = None
            self.chain = []
            seen: set[str] = set()
            while parent in self.levels and parent not in seen:  # `seen`: a looping HL tree stops here
                seen.add(parent)
                self.chain.append(self.levels[parent])
                parent = self.parents.get(parent, "")
        else:
            self.level = LevelStatus(level=code, hl_id=hl_id)
            self.levels[hl_id] = self.level
            self.result.levels.append(self.level)

    def trn(self, seg: Segment) -> None:
        if self.level is not None:
            self.level.trace = seg.get(2)
            return
        # 2200D: a new claim under the patient
        billing = next((lv for lv in self.chain if lv.level == "19"), None)
        self.claim = ClaimAck(
            claim_id=seg.get(2),
            outcome="unknown",
            statuses=[],
            payer_claim_number=None,
            total_charge=None,
            billing_npi=billing.entity_id if billing else "",
            ack_control_number=self.st02,
        )
        self.claims.append((self.claim, list(self.chain)))
        self.result.claims.append(self.claim)
        self.in_line = False

    def stc(self, seg: Segment) -> None:
        info = _stc(seg, self.result.problems)
        if self.claim is not None and self.in_line:
            self.claim.line_statuses.append((self.line_ref, info))
        elif self.claim is not None:
            self.claim.statuses.append(info)
        elif self.level is not None:
            self.level.statuses.append(info)

    def ref(self, seg: Segment, claim: ClaimAck) -> None:
        qual = seg.get(1)
        if self.in_line and qual == "FJ":
            self.line_ref = seg.get(2)
            if claim.line_statuses and claim.line_statuses[-1][0] == "":
                claim.line_statuses[-1] = (self.line_ref, claim.line_statuses[-1][1])
        elif qual == "1K":
            claim.payer_claim_number = seg.get(2)
        elif qual == "D9":
            claim.clearinghouse_trace = seg.get(2)


def read_277ca(text: str) -> Ack277CA:
    """Every claim verdict and every level status in a 277CA file."""
    reader = EnvelopeReader(text)
    result = Ack277CA()
    for transaction in reader.transactions():
        if transaction.set_id != "277":
            position = transaction.segments[0].position
            result.problems.append(f"ST at segment {position}: transaction set {transaction.set_id} is not a 277.")
            continue
        st02 = transaction.header.control_number
        result.transactions.append(st02)
        _TransactionReader(result, st02).read(transaction.segments)
    result.envelope_problems = list(reader.problems)
    return result


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _status_dict(info: StatusInfo) -> dict[str, Any]:
    return {"codes": [str(c) for c in info.codes], "action": info.action, "amount": _money(info.amount)}


def _level_dict(lv: LevelStatus) -> dict[str, Any]:
    codes = [str(c) for s in lv.statuses if rejects([s]) for c in s.codes]
    return {"level": LEVELS.get(lv.level, lv.level), "hl_id": lv.hl_id, "codes": codes}


def _level_words(lv: LevelStatus) -> str:
    codes = ", ".join(str(c) for s in lv.statuses if rejects([s]) for c in s.codes)
    return f"{LEVELS.get(lv.level, 'level ' + lv.level).replace('_', ' ')} (HL {lv.hl_id}) rejected: {codes}"


def summarize_277ca(text: str) -> dict[str, Any]:
    """What a 277CA says, as a plain JSON-able dict: per level and per claim; no names or member ids.

    ``rejected_levels`` lists the levels above the claims that reject (the whole batch at the
    information source / receiver, or one billing provider); every claim under one counts as rejected.
    """
    ack = read_277ca(text)
    return {
        "transactions": ack.transactions,
        "levels": [
            {
                "level": LEVELS.get(lv.level, lv.level),
                "hl_id": lv.hl_id,
                "entity_id": lv.entity_id,
                "statuses": [_status_dict(s) for s in lv.statuses],
            }
            for lv in ack.levels
        ],
        "claims": [
            {
                "claim_id": c.claim_id,
                "outcome": c.outcome,
                "payer_claim_number": c.payer_claim_number,
                "total_charge": _money(c.total_charge),
                "billing_npi": c.billing_npi,
                "statuses": [_status_dict(s) for s in c.statuses],
                "line_statuses": [{"line": ref, **_status_dict(s)} for ref, s in c.line_statuses],
            }
            for c in ack.claims
        ],
        "rejected_levels": [_level_dict(lv) for lv in ack.rejected_levels],
        "claim_count": len(ack.claims),
        "accepted": sum(1 for c in ack.claims if c.outcome == "accepted"),
        "rejected": sum(1 for c in ack.claims if c.outcome == "rejected"),
        "other": sum(1 for c in ack.claims if c.outcome not in ("accepted", "rejected")),
        "problems": ack.problems,
        "envelope_problems": ack.envelope_problems,
    }


def check_277ca(text: str) -> tuple[int, list[str], str]:
    """For ``medbill-x12 validate``: (transactions, problems, the verdict in words)."""
    ack = read_277ca(text)
    accepted = sum(1 for c in ack.claims if c.outcome == "accepted")
    rejected = sum(1 for c in ack.claims if c.outcome == "rejected")
    other = len(ack.claims) - accepted - rejected
    verdict = f"{len(ack.claims)} claim(s): {accepted} accepted, {rejected} rejected, {other} pending or unknown, "
    levels = ack.rejected_levels
    if levels:  # a batch rejected above the claims is rejected even when it lists no claim
        verdict = f"{'; '.join(_level_words(lv) for lv in levels)}; " + verdict
    return len(ack.transactions), [*ack.envelope_problems, *ack.problems], verdict
