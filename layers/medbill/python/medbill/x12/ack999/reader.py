"""Reading a 999: group and transaction verdicts, counts checked; summary and validate views (no PHI)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from medbill.x12.ack999.models import (
    AK9_STATUS,
    IK5_STATUS,
    REJECTED_GROUP,
    ElementError,
    GroupAck,
    SegmentError,
    TransactionAck,
)
from medbill.x12.datatypes import X12NumberError, n0_int
from medbill.x12.envelope import EnvelopeReader
from medbill.x12.tokenizer import Segment

__all__ = ["check_999", "read_999", "read_999_groups", "summarize_999"]


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
    elif status not in AK9_STATUS and status not in REJECTED_GROUP:
        problems.append(f"AK9 at segment {ak9.position}: AK901 {status or '(empty)'} is not a 999 group status.")
    included, received, accepted = g.counts
    if ak9 is not None and received is not None and accepted is not None and accepted > received:
        problems.append(f"AK9 at segment {ak9.position}: AK904 says {accepted} accepted of {received} received.")
    group_rejected = status in REJECTED_GROUP
    version = ak1.get(3) if ak1 else ""
    transactions = tuple(
        TransactionAck(
            group_control_number=ak1.get(2) if ak1 else "",
            functional_id=ak1.get(1) if ak1 else "",
            set_id=tx["set_id"],
            control_number=tx["control_number"],
            implementation=tx["implementation"] or version,
            # No IK5 at all is a broken 999, and a rejected group rejects all of it: not accepted.
            status="rejected" if group_rejected else IK5_STATUS.get(tx.get("ik5_code", ""), "rejected"),
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
