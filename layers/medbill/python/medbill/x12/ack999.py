"""999 implementation acknowledgements (005010X231A1): read what the clearinghouse says, write one for the simulator.

A 999 answers one functional group (AK1 names its GS06) transaction by transaction (AK2 names
each ST02): IK5 A accepted, E accepted with errors noted, R/M/W/X rejected. IK3 points at a segment
in error (id, position within the transaction, loop), IK4 at an element inside it. IK4's copy of
the bad value may be PHI: it is read but never put in summaries or messages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from medbill.x12.claim837 import ControlNumbers
from medbill.x12.envelope import EnvelopeReader, Interchange
from medbill.x12.segments import DEFAULT_DELIMITERS, SegmentBuffer, X12DataError
from medbill.x12.tokenizer import Segment

__all__ = [
    "IMPLEMENTATION_999",
    "ElementError",
    "SegmentError",
    "TransactionAck",
    "read_999",
    "summarize_999",
    "write_999",
]

IMPLEMENTATION_999 = "005010X231A1"

AckStatus = Literal["accepted", "accepted_with_errors", "rejected"]
_IK5_STATUS: dict[str, AckStatus] = {"A": "accepted", "E": "accepted_with_errors"}  # R, M, W, X: rejected
_AK9_STATUS = {"A": "accepted", "E": "accepted_with_errors", "P": "partially_accepted"}


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


@dataclass
class _GroupState:
    functional_id: str = ""
    control_number: str = ""
    version: str = ""
    transactions: list[dict[str, Any]] = field(default_factory=list)


def _ik4(seg: Segment) -> ElementError:
    return ElementError(
        position=":".join(c for c in seg.components(1) if c),
        element_ref=seg.get(2),
        code=seg.get(3),
        bad_value=seg.get(4) or None,
    )


def read_999(text: str) -> list[TransactionAck]:
    """Every AK2 verdict in a 999 file, in file order (several 999 transactions and groups allowed)."""
    result: list[TransactionAck] = []
    for transaction in EnvelopeReader(text).transactions():
        if transaction.set_id != "999":
            continue
        group = _GroupState()
        current: dict[str, Any] | None = None
        seg_errors: list[dict[str, Any]] = []
        ack_st02 = transaction.header.control_number
        group_status = ""
        for seg in transaction.segments:
            sid = seg.id
            if sid == "AK1":
                group = _GroupState(seg.get(1), seg.get(2), seg.get(3))
            elif sid == "AK2":
                seg_errors = []
                current = {"set_id": seg.get(1), "control_number": seg.get(2), "implementation": seg.get(3)}
                current["segment_errors"] = seg_errors
                group.transactions.append(current)
            elif sid == "IK3" and current is not None:
                position = seg.get(2)
                seg_errors.append(
                    {
                        "segment_id": seg.get(1),
                        "position": int(position) if position.isdigit() else 0,
                        "loop_id": seg.get(3),
                        "code": seg.get(4),
                        "claim_id": None,
                        "elements": [],
                    }
                )
            elif sid == "CTX" and seg_errors and seg.component(1, 1) == "CLM01":
                seg_errors[-1]["claim_id"] = seg.component(1, 2) or None
            elif sid == "IK4" and seg_errors:
                seg_errors[-1]["elements"].append(_ik4(seg))
            elif sid == "IK5" and current is not None:
                current["ik5_code"] = seg.get(1)
                current["error_codes"] = tuple(seg.get(n) for n in range(2, 7) if seg.get(n))
                current = None
            elif sid == "AK9":
                group_status = seg.get(1)
        for tx in group.transactions:
            ik5 = tx.get("ik5_code", "")
            result.append(
                TransactionAck(
                    group_control_number=group.control_number,
                    functional_id=group.functional_id,
                    set_id=tx["set_id"],
                    control_number=tx["control_number"],
                    implementation=tx["implementation"] or group.version,
                    # No IK5 at all is a broken 999: treat the transaction as not accepted.
                    status=_IK5_STATUS.get(ik5, "rejected"),
                    ik5_code=ik5,
                    error_codes=tx.get("error_codes", ()),
                    segment_errors=tuple(
                        SegmentError(
                            segment_id=e["segment_id"],
                            position=e["position"],
                            code=e["code"],
                            loop_id=e["loop_id"],
                            claim_id=e["claim_id"],
                            elements=tuple(e["elements"]),
                        )
                        for e in tx["segment_errors"]
                    ),
                    group_status=group_status,
                    ack_control_number=ack_st02,
                )
            )
    return result


def summarize_999(text: str) -> dict[str, Any]:
    """What a 999 says, as a plain JSON-able dict (codes and positions; IK404 bad values left out: PHI)."""
    acks = read_999(text)
    groups: dict[str, dict[str, Any]] = {}
    for ack in acks:
        group = groups.setdefault(
            ack.group_control_number,
            {"group_control_number": ack.group_control_number, "functional_id": ack.functional_id,
             "status": _AK9_STATUS.get(ack.group_status, "rejected" if ack.group_status else ""),
             "ak9_code": ack.group_status, "transactions": []},
        )  # fmt: skip
        group["transactions"].append(
            {
                "set_id": ack.set_id,
                "control_number": ack.control_number,
                "status": ack.status,
                "ik5_code": ack.ik5_code,
                "error_codes": list(ack.error_codes),
                "segment_errors": [
                    {
                        "segment_id": e.segment_id,
                        "position": e.position,
                        "loop_id": e.loop_id,
                        "code": e.code,
                        "claim_id": e.claim_id,
                        "element_errors": [
                            {"position": el.position, "element_ref": el.element_ref, "code": el.code}
                            for el in e.elements
                        ],
                    }
                    for e in ack.segment_errors
                ],
            }
        )
    return {
        "groups": list(groups.values()),
        "transaction_count": len(acks),
        "accepted": sum(1 for a in acks if a.status == "accepted"),
        "accepted_with_errors": sum(1 for a in acks if a.status == "accepted_with_errors"),
        "rejected": sum(1 for a in acks if a.status == "rejected"),
    }


def _write_errors(buf: SegmentBuffer, errors: Sequence[SegmentError]) -> None:
    for e in errors:
        # IK302 counts from ST; IK303 is a loop id such as 2300 (at most 4 characters).
        if e.position < 1 or len(e.loop_id) > 4 or not e.code or not e.segment_id:
            raise buf.error("IK3 needs a segment id, a position >= 1, an error code and a loop id of <= 4 chars")
        for el in e.elements:
            if not el.code or not el.position:
                raise buf.error("IK4 needs an element position and an error code")
        buf.add("IK3", e.segment_id, str(e.position), e.loop_id, e.code)
        if e.claim_id:
            buf.add("CTX", ("CLM01", e.claim_id))
        for el in e.elements:
            buf.add("IK4", tuple(el.position.split(":")), el.element_ref, el.code, el.bad_value)


def write_999(
    submission: str,
    *,
    control_numbers: ControlNumbers,
    created: datetime,
    rejected: Mapping[str, Sequence[SegmentError]] | None = None,
    noted: Mapping[str, Sequence[SegmentError]] | None = None,
    usage_indicator: str | None = None,
) -> str:
    """A 999 acknowledging every functional group of `submission` (an 837P, or any 5010 file).

    Transactions are accepted (IK5*A) unless their ST02 is a key of `rejected` (IK5*R with IK3/IK4
    for the given errors) or of `noted` (accepted with errors, IK5*E). Sender and receiver are the
    submission's, swapped. `control_numbers` are the 999's own ISA13/GS06.
    """
    rejected = dict(rejected or {})
    noted = dict(noted or {})
    reader = EnvelopeReader(submission)
    # group control number -> (group, [(ST01, ST02, ST03)])
    groups: dict[int, tuple[Any, list[tuple[str, str, str]]]] = {}
    first_isa: Interchange | None = None
    for tx in reader.transactions():
        first_isa = first_isa or tx.interchange
        key = id(tx.group)
        groups.setdefault(key, (tx.group, []))[1].append(
            (tx.set_id, tx.header.control_number, tx.header.implementation)
        )
    if first_isa is None or not groups:
        raise X12DataError("the submission has no transaction to acknowledge")
    known = {st02 for _, txs in groups.values() for _, st02, _ in txs}
    unknown = (set(rejected) | set(noted)) - known
    if unknown:
        raise X12DataError(f"no transaction {', '.join(sorted(unknown))} in the submission")
    if set(rejected) & set(noted):
        raise X12DataError("a transaction cannot be both rejected and accepted with errors")

    buf = SegmentBuffer(DEFAULT_DELIMITERS)
    d = DEFAULT_DELIMITERS
    sender, receiver = first_isa.receiver_id.strip(), first_isa.sender_id.strip()
    isa = [
        "ISA", "00", " " * 10, "00", " " * 10,
        first_isa.receiver_qualifier or "ZZ", f"{sender:<15}", first_isa.sender_qualifier or "ZZ", f"{receiver:<15}",
        created.strftime("%y%m%d"), created.strftime("%H%M"), d.repetition or "^", "00501",
        control_numbers.isa13, "0", usage_indicator or first_isa.usage or "P", d.component,
    ]  # fmt: skip
    buf.add_raw(d.element.join(isa))
    gs06 = str(control_numbers.group)
    group_list = list(groups.values())
    gs_sender = group_list[0][0].receiver if group_list[0][0] else sender
    gs_receiver = group_list[0][0].sender if group_list[0][0] else receiver
    buf.add("GS", "FA", gs_sender, gs_receiver, created.strftime("%Y%m%d"), created.strftime("%H%M"), gs06,
            "X", IMPLEMENTATION_999)  # fmt: skip
    for n, (group, txs) in enumerate(group_list, start=1):
        st02 = f"{n:04d}"
        start = len(buf)
        buf.add("ST", "999", st02, IMPLEMENTATION_999)
        buf.add("AK1", group.functional_id if group else "HC", group.control_number if group else "",
                group.version if group else "")  # fmt: skip
        accepted = 0
        for set_id, tx_st02, implementation in txs:
            buf.context = f"transaction {tx_st02}"
            buf.add("AK2", set_id, tx_st02, implementation)
            if tx_st02 in rejected:
                _write_errors(buf, rejected[tx_st02])
                # IK502 5: one or more segments in error (I5 would name an implementation-guide error).
                buf.add("IK5", "R", "5")
            elif tx_st02 in noted:
                _write_errors(buf, noted[tx_st02])
                accepted += 1
                buf.add("IK5", "E")
            else:
                accepted += 1
                buf.add("IK5", "A")
        buf.context = ""
        if accepted < len(txs):
            ak901 = "P" if accepted else "R"
        else:
            ak901 = "E" if any(tx_st02 in noted for _, tx_st02, _ in txs) else "A"
        buf.add("AK9", ak901, str(len(txs)), str(len(txs)), str(accepted))
        buf.add("SE", str(len(buf) - start + 1), st02)
    buf.add("GE", str(len(group_list)), gs06)
    buf.add("IEA", "1", control_numbers.isa13)
    return buf.text()
