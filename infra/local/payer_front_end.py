"""Front-end scenarios of the payer simulator, by subscriber member id (2010BA NM109): what a
clearinghouse or payer does to a claim before adjudicating it, so the demo and tests can show a
999 error, a 277CA rejection and a claim that goes quiet.

`payer_rules.json` -> "scenarios":

    "reject_999":   [member ids]         the 837P's transaction is rejected in the 999 (IK5 R) with
                                         an IK3/IK4 on the subscriber's NM1 (2010BA NM109, invalid
                                         character); no 277CA, no 835
    "reject_277ca": {member id: "A7:562:85"}  the 277CA rejects the claim with this STC01
                                         (category:status:entity); no 835
    "pend":         [member ids]         accepted (999, 277CA A1/A2), then no 835: the claim waits;
                                         a 276 about it is answered P1:20 (pending: accepted for processing)

Member ids are the simulator's test data (events/clearinghouse/); nothing here is logged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from medbill.x12.ack277ca import StatusCode
from medbill.x12.ack999 import ElementError, SegmentError
from medbill.x12.claim837 import Claim837
from medbill.x12.tokenizer import tokenize

__all__ = ["Scenarios", "load_scenarios", "subscriber_error"]


@dataclass(frozen=True)
class Scenarios:
    reject_999: frozenset[str] = frozenset()
    reject_277ca: dict[str, StatusCode] = field(default_factory=dict)
    pend: frozenset[str] = frozenset()

    def rejected_999(self, claims: list[Claim837]) -> bool:
        return any(c.member_id in self.reject_999 for c in claims)

    def rejected_277ca(self, claim: Claim837) -> StatusCode | None:
        return self.reject_277ca.get(claim.member_id)

    def pended(self, claim: Claim837) -> bool:
        return claim.member_id in self.pend


def _status(text: str) -> StatusCode:
    category, code, *entity = text.split(":")
    return StatusCode(category=category, code=code, entity=entity[0] if entity else "")


def load_scenarios(path: Path) -> Scenarios:
    raw = json.loads(path.read_text()).get("scenarios", {})
    return Scenarios(
        reject_999=frozenset(raw.get("reject_999", [])),
        reject_277ca={member: _status(stc) for member, stc in raw.get("reject_277ca", {}).items()},
        pend=frozenset(raw.get("pend", [])),
    )


def subscriber_error(text: str) -> dict[str, list[SegmentError]]:
    """ST02 -> the IK3/IK4 a front end gives a subscriber id it cannot take: NM1 (2010BA), element
    09 (data element 67) has an invalid character. Position counted from ST (ST = 1)."""
    out: dict[str, list[SegmentError]] = {}
    st02, start = "", 0
    for seg in tokenize(text):
        if seg.id == "ST":
            st02, start = seg.get(2), seg.position
        elif seg.id == "NM1" and seg.get(1) == "IL" and st02 and st02 not in out:
            error = SegmentError(
                segment_id="NM1",
                position=seg.position - start + 1,
                code="8",
                loop_id="2010",  # IK303 holds at most 4 characters: the loop, not its 2010BA suffix
                elements=(ElementError(position="9", code="6", element_ref="67"),),
            )
            out[st02] = [error]
    return out
