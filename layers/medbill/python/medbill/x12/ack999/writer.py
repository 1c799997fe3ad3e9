"""Writing a 999 for the payer simulator: every transaction of a submission accepted, noted or rejected."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from medbill.x12.ack999.models import IMPLEMENTATION_999, SegmentError
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

__all__ = ["write_999"]


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
