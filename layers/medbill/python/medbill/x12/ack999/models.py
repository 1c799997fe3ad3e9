"""999 models: the verdicts of one functional group (AK1..AK9) and of each transaction (AK2..IK5)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["IMPLEMENTATION_999", "AckStatus", "ElementError", "GroupAck", "SegmentError", "TransactionAck"]

IMPLEMENTATION_999 = "005010X231A1"

AckStatus = Literal["accepted", "accepted_with_errors", "rejected"]
IK5_STATUS: dict[str, AckStatus] = {"A": "accepted", "E": "accepted_with_errors"}  # R, M, W, X: rejected
AK9_STATUS = {"A": "accepted", "E": "accepted_with_errors", "P": "partially_accepted"}


@dataclass(frozen=True, kw_only=True)
class ElementError:
    """IK4: an element in error. `position` is IK401 (element, or element:component)."""

    position: str
    code: str  # IK403: 1 mandatory missing, 6 invalid character, 7 invalid code value, 8 invalid date, ...
    element_ref: str = ""  # IK402: data element reference number
    bad_value: str | None = None  # IK404: copy of the bad data (may be PHI: never logged)


@dataclass(frozen=True, kw_only=True)
class SegmentError:
    """IK3: a segment in error, at `position` counted from ST (ST = 1)."""

    segment_id: str
    position: int
    code: str = "8"  # IK304: 8 = segment has data element errors, 3 = required segment missing, ...
    loop_id: str = ""  # IK303, e.g. "2300"
    claim_id: str | None = None  # CTX*CLM01:<claim id>: ties the error to a claim
    elements: tuple[ElementError, ...] = ()


@dataclass(frozen=True)
class TransactionAck:
    """One AK2 loop: the verdict on one transaction of the acknowledged group."""

    group_control_number: str  # AK102 = the acknowledged GS06
    functional_id: str  # AK101, e.g. HC
    set_id: str  # AK201, e.g. 837
    control_number: str  # AK202 = the acknowledged ST02
    implementation: str  # AK203 (or AK103)
    status: AckStatus
    ik5_code: str  # IK501 as sent
    error_codes: tuple[str, ...] = ()  # IK502..IK506
    segment_errors: tuple[SegmentError, ...] = ()
    group_status: str = ""  # AK901 A/E/P/R/M/W/X, read from the group trailer
    ack_control_number: str = ""  # ST02 of the 999 itself

    @property
    def accepted(self) -> bool:
        return self.status != "rejected"


REJECTED_GROUP = frozenset({"R", "M", "W", "X"})  # AK901 codes that reject the whole group


@dataclass(frozen=True)
class GroupAck:
    """One AK1..AK9 loop: the verdict on one functional group of the acknowledged file.

    A group can be rejected as a whole with no AK2 at all (`AK1*HC*1~AK9*R*2*2*0*4~`: a GE count
    that is wrong, say); then `transactions` is empty and the AK9 counts say how many were lost.
    """

    functional_id: str  # AK101
    group_control_number: str  # AK102 = the acknowledged GS06
    implementation: str  # AK103
    ak9_code: str  # AK901 as sent ('' when the 999 has no AK9)
    included: int | None  # AK902 number of transaction sets included (per the acknowledged GE01)
    received: int | None  # AK903 number received
    accepted_count: int | None  # AK904 number accepted
    error_codes: tuple[str, ...]  # AK905..AK909: 1 functional group not supported, 4 GE01 count wrong, ...
    transactions: tuple[TransactionAck, ...]
    ack_control_number: str = ""  # ST02 of the 999
    position: int = 0  # of the AK1

    @property
    def status(self) -> str:
        """accepted, accepted_with_errors, partially_accepted, rejected; '' without an AK9."""
        if not self.ak9_code:
            return ""
        if self.ak9_code not in AK9_STATUS:
            return "rejected"
        # AK901 A/E/P as sent, unless the transaction counts say otherwise: a group with a rejected
        # transaction is never "accepted" (AK901 A contradicting an IK5 R is reported as a problem).
        c = self.counts()
        accepted = c["accepted"] + c["accepted_with_errors"]
        if c["rejected"] == 0:
            if accepted == 0:
                return AK9_STATUS[self.ak9_code]
            return "accepted_with_errors" if self.ak9_code == "E" or c["accepted_with_errors"] else "accepted"
        return "partially_accepted" if accepted else "rejected"

    @property
    def rejected(self) -> bool:
        return self.ak9_code in REJECTED_GROUP

    def counts(self) -> dict[str, int]:
        """Transactions accepted / accepted with errors / rejected: from the AK2 loops, or from the AK9
        counts when the group is answered as a whole."""
        if self.transactions:
            out = {"accepted": 0, "accepted_with_errors": 0, "rejected": 0}
            for t in self.transactions:
                out[t.status] += 1
            return out
        received = self.received or 0
        accepted = min(self.accepted_count or 0, received)
        with_errors = self.ak9_code == "E"
        return {
            "accepted": 0 if with_errors else accepted,
            "accepted_with_errors": accepted if with_errors else 0,
            "rejected": received - accepted,
        }
