"""999 implementation acknowledgements (005010X231A1): read what the clearinghouse says, write one for the simulator.

A 999 answers one functional group (AK1 names its GS06) transaction by transaction (AK2 names
each ST02): IK5 A accepted, E accepted with errors noted, R/M/W/X rejected. IK3 points at a segment
in error (id, position within the transaction, loop), IK4 at an element inside it. IK4's copy of
the bad value may be PHI: it is read but never put in summaries or messages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from medbill.x12.datatypes import X12NumberError, n0_int
from medbill.x12.envelope import EnvelopeReader, FunctionalGroup, Interchange
from medbill.x12.interchange import (
    ControlNumbers,
    Envelope,
    close_transaction,
    open_transaction,
    write_header,
    write_trailer,
)
from medbill.x12.segments import DEFAULT_DELIMITERS, SegmentBuffer, X12DataError
from medbill.x12.tokenizer import Segment

__all__ = [
    "IMPLEMENTATION_999",
    "ElementError",
    "GroupAck",
    "SegmentError",
    "TransactionAck",
    "check_999",
    "read_999",
    "read_999_groups",
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


_REJECTED_GROUP = frozenset({"R", "M", "W", "X"})  # AK901 codes that reject the whole group


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
        if self.ak9_code not in _AK9_STATUS:
            return "rejected"
        # AK901 A/E/P as sent, unless the transaction counts say otherwise: a group with a rejected
        # transaction is never "accepted" (AK901 A contradicting an IK5 R is reported as a problem).
        c = self.counts()
        accepted = c["accepted"] + c["accepted_with_errors"]
        if c["rejected"] == 0:
            if accepted == 0:
                return _AK9_STATUS[self.ak9_code]
            return "accepted_with_errors" if self.ak9_code == "E" or c["accepted_with_errors"] else "accepted"
        return "partially_accepted" if accepted else "rejected"

    @property
    def rejected(self) -> bool:
        return self.ak9_code in _REJECTED_GROUP

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


def _ik4(seg: Segment) -> ElementError:
    return ElementError(
        position=":".join(c for c in seg.components(1) if c),
        element_ref=seg.get(2),
        code=seg.get(3),
        bad_value=seg.get(4) or None,
    )


def _count(seg: Segment, n: int, problems: list[str]) -> int | None:
    """AKnn as a whole number (None, and a problem, when it is not one)."""
    value = seg.get(n)
    if not value:
        return None
    element = f"{seg.id}{n:02d}"
    try:
        number = n0_int(value, element)
    except X12NumberError as err:
        problems.append(f"{seg.id} at segment {seg.position}: {err}.")
        return None
    if number < 0:
        problems.append(
            f"{seg.id} at segment {seg.position}: {element} {number} is negative, which a count or position cannot be."
        )
        return None
    return number


class _Group:
    """An AK1 loop being read."""

    def __init__(self, seg: Segment | None) -> None:
        self.seg = seg
        self.transactions: list[dict[str, Any]] = []
        self.ak9: Segment | None = None
        self.counts: tuple[int | None, int | None, int | None] = (None, None, None)


def read_999_groups(text: str) -> tuple[list[GroupAck], list[str]]:
    """Every group verdict in a 999 file, with its AK2 verdicts, in file order; and the problems found
    (envelope problems, counts that are not numbers, an AK2 without IK5, a group without AK9, ...).

    A transaction of a group rejected as a whole (AK901 R, M, W, X) is rejected whatever its IK5 says.
    """
    groups, problems, envelope_problems, _ = _read(text)
    return groups, envelope_problems + problems


def _read(text: str) -> tuple[list[GroupAck], list[str], list[str], int]:
    """(groups, content problems, envelope problems, number of transactions in the file)."""
    reader = EnvelopeReader(text)
    groups: list[GroupAck] = []
    problems: list[str] = []
    count = 0
    for transaction in reader.transactions():
        count += 1
        st = transaction.segments[0]
        if transaction.set_id != "999":
            problems.append(f"ST at segment {st.position}: transaction set {transaction.set_id} is not a 999.")
            continue
        ack_st02 = transaction.header.control_number
        current_groups: list[_Group] = []
        group: _Group | None = None
        current: dict[str, Any] | None = None
        seg_errors: list[dict[str, Any]] = []
        for seg in transaction.segments:
            sid = seg.id
            if sid == "AK1":
                group = _Group(seg)
                current_groups.append(group)
                current = None
            elif sid == "AK2":
                if group is None:
                    problems.append(f"AK2 at segment {seg.position}: no AK1 names the group it answers.")
                    group = _Group(None)
                    current_groups.append(group)
                if current is not None:
                    problems.append(f"AK2 at segment {current['position']}: no IK5 closes it.")
                seg_errors = []
                current = {
                    "set_id": seg.get(1),
                    "control_number": seg.get(2),
                    "implementation": seg.get(3),
                    "segment_errors": seg_errors,
                    "position": seg.position,
                }
                group.transactions.append(current)
            elif sid == "IK3" and current is not None:
                position = _count(seg, 2, problems)
                seg_errors.append(
                    {
                        "segment_id": seg.get(1),
                        "position": position or 0,
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
                if current is not None:
                    problems.append(f"AK2 at segment {current['position']}: no IK5 closes it.")
                    current = None
                if group is None:
                    problems.append(f"AK9 at segment {seg.position}: no AK1 names the group it answers.")
                    group = _Group(None)
                    current_groups.append(group)
                group.ak9 = seg
                group.counts = (_count(seg, 2, problems), _count(seg, 3, problems), _count(seg, 4, problems))
                group = None
        if current is not None:  # the last AK2 ran to SE with neither IK5 nor AK9 after it
            problems.append(f"AK2 at segment {current['position']}: no IK5 closes it.")
        if not current_groups:
            problems.append(f"ST at segment {st.position}: the 999 has no AK1, so it answers no functional group.")
        for g in current_groups:
            groups.append(_group_ack(g, ack_st02, st.position, problems))
    return groups, problems, list(reader.problems), count


def _group_ack(g: _Group, ack_st02: str, st_position: int, problems: list[str]) -> GroupAck:
    ak1, ak9 = g.seg, g.ak9
    where = f"AK1 at segment {ak1.position}" if ak1 else f"ST at segment {st_position}"
    status = ak9.get(1) if ak9 else ""
    if ak9 is None:
        problems.append(f"{where}: no AK9 gives the group's verdict.")
    elif status not in _AK9_STATUS and status not in _REJECTED_GROUP:
        problems.append(f"AK9 at segment {ak9.position}: AK901 {status or '(empty)'} is not a 999 group status.")
    included, received, accepted = g.counts
    if ak9 is not None and received is not None and accepted is not None and accepted > received:
        problems.append(f"AK9 at segment {ak9.position}: AK904 says {accepted} accepted of {received} received.")
    group_rejected = status in _REJECTED_GROUP
    version = ak1.get(3) if ak1 else ""
    transactions = tuple(
        TransactionAck(
            group_control_number=ak1.get(2) if ak1 else "",
            functional_id=ak1.get(1) if ak1 else "",
            set_id=tx["set_id"],
            control_number=tx["control_number"],
            implementation=tx["implementation"] or version,
            # No IK5 at all is a broken 999, and a rejected group rejects all of it: not accepted.
            status="rejected" if group_rejected else _IK5_STATUS.get(tx.get("ik5_code", ""), "rejected"),
            ik5_code=tx.get("ik5_code", ""),
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
            group_status=status,
            ack_control_number=ack_st02,
        )
        for tx in g.transactions
    )
    if status in ("A", "E"):
        rejected_st02 = [t.control_number or "(no ST02)" for t in transactions if not t.accepted]
        if rejected_st02:
            problems.append(
                f"AK9 at segment {ak9.position if ak9 else st_position}: AK901 {status} accepts the group but "
                f"the AK2 loop(s) for transaction(s) {', '.join(rejected_st02)} reject."
            )
        elif not transactions and received is not None and accepted is not None and accepted < received:
            problems.append(
                f"AK9 at segment {ak9.position if ak9 else st_position}: AK901 {status} accepts the group but "
                f"AK904 says {accepted} accepted of {received} received."
            )
    if ak9 is not None and transactions and accepted is not None:
        counted = sum(1 for t in transactions if t.accepted)
        if counted != accepted and not group_rejected:
            problems.append(
                f"AK9 at segment {ak9.position}: AK904 says {accepted} accepted but the AK2 loops accept {counted}."
            )
    return GroupAck(
        functional_id=ak1.get(1) if ak1 else "",
        group_control_number=ak1.get(2) if ak1 else "",
        implementation=version,
        ak9_code=status,
        included=included,
        received=received,
        accepted_count=accepted,
        error_codes=tuple(ak9.get(n) for n in range(5, 10) if ak9.get(n)) if ak9 else (),
        transactions=transactions,
        ack_control_number=ack_st02,
        position=ak1.position if ak1 else st_position,
    )


def read_999(text: str) -> list[TransactionAck]:
    """Every AK2 verdict in a 999 file, in file order (several 999 transactions and groups allowed).

    A group rejected as a whole without AK2 loops has no entry here: see :func:`read_999_groups`.
    """
    return [t for g in read_999_groups(text)[0] for t in g.transactions]


def _overall(groups: Sequence[GroupAck]) -> str:
    statuses = {g.status for g in groups}
    if not groups or "" in statuses:
        return "unknown"
    if statuses <= {"accepted"}:
        return "accepted"
    if statuses <= {"accepted", "accepted_with_errors"}:
        return "accepted_with_errors"
    if statuses == {"rejected"}:
        return "rejected"
    return "partially_accepted"


def summarize_999(text: str) -> dict[str, Any]:
    """What a 999 says, as a plain JSON-able dict (codes and positions; IK404 bad values left out: PHI).

    Counts are per transaction: from the AK2 loops, or from AK9 for a group answered as a whole.
    """
    groups, problems, envelope_problems, _ = _read(text)
    out_groups = []
    totals = {"accepted": 0, "accepted_with_errors": 0, "rejected": 0}
    for g in groups:
        counts = g.counts()
        for key, value in counts.items():
            totals[key] += value
        out_groups.append(
            {
                "group_control_number": g.group_control_number,
                "functional_id": g.functional_id,
                "status": g.status,
                "ak9_code": g.ak9_code,
                "transactions_included": g.included,
                "transactions_received": g.received,
                "transactions_accepted": g.accepted_count,
                "error_codes": list(g.error_codes),
                **counts,
                "transactions": [
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
                    for ack in g.transactions
                ],
            }
        )
    return {
        "status": _overall(groups),
        "groups": out_groups,
        "transaction_count": sum(totals.values()),
        **totals,
        "problems": problems,
        "envelope_problems": envelope_problems,
    }


def check_999(text: str) -> tuple[int, list[str], str]:
    """For ``medbill-x12 validate``: (transactions acknowledged, problems, the verdict in words)."""
    groups, problems, envelope_problems, transactions = _read(text)
    problems = envelope_problems + problems
    words = []
    for g in groups:
        c = g.counts()
        accepted = c["accepted"] + c["accepted_with_errors"]
        status = (g.status or "no AK9").replace("_", " ")
        words.append(
            f"group {g.group_control_number or '(no AK1)'}: {status} "
            f"({accepted} of {accepted + c['rejected']} transaction(s) accepted)"
        )
    return transactions, problems, "acknowledges " + ", ".join(words) + ", " if words else ""


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


def _write_group_ack(
    buf: SegmentBuffer,
    st02: str,
    group: FunctionalGroup | None,
    txs: list[tuple[str, str, str]],
    rejected: Mapping[str, Sequence[SegmentError]],
    noted: Mapping[str, Sequence[SegmentError]],
) -> None:
    """One 999 transaction answering one functional group: AK1, AK2/IK5 per transaction, AK9."""
    start = open_transaction(buf, "999", st02, IMPLEMENTATION_999)
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
    close_transaction(buf, start, st02)


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
    # each functional group (by identity: GS06 may repeat across interchanges) -> (group, [(ST01, ST02, ST03)])
    groups: dict[int, tuple[FunctionalGroup | None, list[tuple[str, str, str]]]] = {}
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

    group_list = list(groups.values())
    first_group = group_list[0][0]
    envelope = Envelope.answering(
        first_isa,
        control_number=control_numbers.interchange,
        group_control_number=control_numbers.group,
        functional_id="FA",
        version=IMPLEMENTATION_999,
        created=created,
        usage=usage_indicator,
        # GS02/GS03: the submission's group, swapped
        application_sender=first_group.receiver if first_group else None,
        application_receiver=first_group.sender if first_group else None,
    )
    buf = SegmentBuffer(DEFAULT_DELIMITERS)
    write_header(buf, envelope)
    for n, (group, txs) in enumerate(group_list, start=1):
        _write_group_ack(buf, f"{n:04d}", group, txs, rejected, noted)
    write_trailer(buf, envelope, len(group_list))
    return buf.text()
