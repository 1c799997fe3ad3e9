"""277CA claim acknowledgements (005010X214): read the payer's verdict per claim, write one for the simulator.

The 277CA is a hierarchy: information source (HL 20: payer or clearinghouse) -> information
receiver (HL 21: us, the submitter) -> billing provider (HL 19) -> patient (HL PT) with one
2200D loop per claim: TRN*2 = our claim id (CLM01), STC = status, REF*1K = the payer's claim
number. Each STC carries up to three status codes (STC01, STC10, STC11) as
category:status[:entity]. The category decides: A1/A2 (and A0, A5) accepted, A3/A4/A6/A7/A8
rejected, P0..P5 pending.

Summaries carry ids, codes and amounts only: patient names and member ids (NM1*QC) and dates of
service are read past, never reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from medbill.x12.claim837.models import Claim837, Name, Submission837
from medbill.x12.claim837.reader import read_submission
from medbill.x12.datatypes import X12NumberError, parse_r
from medbill.x12.envelope import EnvelopeReader
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
    "IMPLEMENTATION_277CA",
    "Ack277CA",
    "ClaimAck",
    "LevelStatus",
    "StatusCode",
    "StatusInfo",
    "check_277ca",
    "read_277ca",
    "summarize_277ca",
    "write_277ca",
]

IMPLEMENTATION_277CA = "005010X214"

Outcome = Literal["accepted", "rejected", "pending", "unknown"]
ACCEPTED_CATEGORIES = frozenset({"A0", "A1", "A2", "A5"})
REJECTED_CATEGORIES = frozenset({"A3", "A4", "A6", "A7", "A8"})
PENDING_CATEGORIES = frozenset({"P0", "P1", "P2", "P3", "P4", "P5"})
_LEVELS = {"20": "information_source", "21": "information_receiver", "19": "billing_provider", "PT": "patient"}


@dataclass(frozen=True, kw_only=True)
class StatusCode:
    """One health care claim status: category (e.g. A7), status code (e.g. 562), entity (e.g. 85)."""

    category: str
    code: str
    entity: str = ""

    def __str__(self) -> str:
        return ":".join(p for p in (self.category, self.code, self.entity) if p)

    @classmethod
    def parse(cls, text: str) -> StatusCode:
        """'A7:562:85' -> StatusCode(category='A7', code='562', entity='85')."""
        parts = [*text.split(":"), "", ""]
        return cls(category=parts[0], code=parts[1], entity=parts[2])


@dataclass(frozen=True)
class StatusInfo:
    """One STC segment."""

    codes: tuple[StatusCode, ...]  # STC01, STC10, STC11
    action: str = ""  # STC03: WQ accepted, U rejected
    amount: Decimal | None = None  # STC04: total claim charge (or batch/provider total)

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(c.category for c in self.codes)


@dataclass
class LevelStatus:
    """Statuses at one HL level above the claim (source 20, receiver 21, billing provider 19)."""

    level: str  # HL03
    hl_id: str
    entity_id: str = ""  # NM109: payer id / ETIN / NPI (never read for the patient level)
    trace: str = ""  # TRN02
    statuses: list[StatusInfo] = field(default_factory=list)


@dataclass
class ClaimAck:
    """The payer's verdict on one claim (one 2200D loop)."""

    claim_id: str  # TRN02 = our CLM01
    outcome: Outcome
    statuses: list[StatusInfo]
    payer_claim_number: str | None  # REF*1K
    total_charge: Decimal | None  # STC04 of the first claim-level STC
    billing_npi: str = ""
    clearinghouse_trace: str | None = None  # REF*D9
    ack_control_number: str = ""  # ST02 of the 277CA
    line_statuses: list[tuple[str, StatusInfo]] = field(default_factory=list)  # (REF*FJ or SVC code, STC)

    @property
    def accepted(self) -> bool:
        return self.outcome == "accepted"

    @property
    def codes(self) -> list[str]:
        return [str(c) for s in self.statuses for c in s.codes]


@dataclass
class Ack277CA:
    levels: list[LevelStatus] = field(default_factory=list)
    claims: list[ClaimAck] = field(default_factory=list)
    transactions: list[str] = field(default_factory=list)  # ST02s
    envelope_problems: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # content: amounts that are not numbers, non-277 sets

    def claim(self, claim_id: str) -> ClaimAck | None:
        return next((c for c in self.claims if c.claim_id == claim_id), None)

    @property
    def rejected_levels(self) -> list[LevelStatus]:
        """Levels above the claims (source, receiver, billing provider) with a rejecting STC: each
        rejects the batch (or the provider's claims), with or without claims listed under it."""
        return [lv for lv in self.levels if _rejects(lv.statuses)]


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


def _rejects(statuses: Sequence[StatusInfo]) -> bool:
    return any(cat in REJECTED_CATEGORIES for s in statuses for cat in s.categories)


def _outcome(statuses: Sequence[StatusInfo], inherited: Sequence[StatusInfo]) -> Outcome:
    # A rejection above the claim (information source / receiver = the whole batch, or the billing
    # provider) rejects every claim under it, whatever the claim's own STC says.
    if _rejects(statuses) or _rejects(inherited):
        return "rejected"
    categories = {cat for s in statuses for cat in s.categories}
    if categories & PENDING_CATEGORIES:
        return "pending"
    if categories & ACCEPTED_CATEGORIES:
        return "accepted"
    return "unknown"


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
        levels: dict[str, LevelStatus] = {}
        parents: dict[str, str] = {}
        claims: list[tuple[ClaimAck, list[LevelStatus]]] = []  # each claim with its ancestor levels
        level: LevelStatus | None = None
        chain: list[LevelStatus] = []  # ancestors of the current patient level
        claim: ClaimAck | None = None
        in_line = False
        line_ref = ""
        for seg in transaction.segments:
            sid = seg.id
            if sid == "HL":
                claim, in_line = None, False
                hl_id, parent, code = seg.get(1), seg.get(2), seg.get(3)
                parents[hl_id] = parent
                if code == "PT":
                    level = None
                    chain = []
                    seen: set[str] = set()
                    while parent in levels and parent not in seen:  # `seen`: a looping HL tree stops here
                        seen.add(parent)
                        chain.append(levels[parent])
                        parent = parents.get(parent, "")
                else:
                    level = LevelStatus(level=code, hl_id=hl_id)
                    levels[hl_id] = level
                    result.levels.append(level)
            elif sid == "NM1" and level is not None:
                level.entity_id = seg.get(9)
            elif sid == "TRN":
                if level is not None:
                    level.trace = seg.get(2)
                else:  # 2200D: a new claim under the patient
                    billing = next((lv for lv in chain if lv.level == "19"), None)
                    claim = ClaimAck(
                        claim_id=seg.get(2),
                        outcome="unknown",
                        statuses=[],
                        payer_claim_number=None,
                        total_charge=None,
                        billing_npi=billing.entity_id if billing else "",
                        ack_control_number=st02,
                    )
                    claims.append((claim, list(chain)))
                    result.claims.append(claim)
                    in_line = False
            elif sid == "STC":
                info = _stc(seg, result.problems)
                if claim is not None and in_line:
                    claim.line_statuses.append((line_ref, info))
                elif claim is not None:
                    claim.statuses.append(info)
                elif level is not None:
                    level.statuses.append(info)
            elif sid == "REF" and claim is not None:
                qual = seg.get(1)
                if in_line and qual == "FJ":
                    line_ref = seg.get(2)
                    if claim.line_statuses and claim.line_statuses[-1][0] == "":
                        claim.line_statuses[-1] = (line_ref, claim.line_statuses[-1][1])
                elif qual == "1K":
                    claim.payer_claim_number = seg.get(2)
                elif qual == "D9":
                    claim.clearinghouse_trace = seg.get(2)
            elif sid == "SVC" and claim is not None:
                in_line = True
                line_ref = ""
        for c, chain_levels in claims:
            inherited = [s for lv in chain_levels for s in lv.statuses]
            c.outcome = _outcome(c.statuses, inherited)
            c.total_charge = next((s.amount for s in c.statuses if s.amount is not None), None)
    result.envelope_problems = list(reader.problems)
    return result


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _status_dict(info: StatusInfo) -> dict[str, Any]:
    return {"codes": [str(c) for c in info.codes], "action": info.action, "amount": _money(info.amount)}


def _level_dict(lv: LevelStatus) -> dict[str, Any]:
    codes = [str(c) for s in lv.statuses if _rejects([s]) for c in s.codes]
    return {"level": _LEVELS.get(lv.level, lv.level), "hl_id": lv.hl_id, "codes": codes}


def _level_words(lv: LevelStatus) -> str:
    codes = ", ".join(str(c) for s in lv.statuses if _rejects([s]) for c in s.codes)
    return f"{_LEVELS.get(lv.level, 'level ' + lv.level).replace('_', ' ')} (HL {lv.hl_id}) rejected: {codes}"


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
                "level": _LEVELS.get(lv.level, lv.level),
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


# --- writing (the payer / clearinghouse simulator) ----------------------------------------------


@dataclass
class _ProviderClaims:
    """The claims of one billing provider (2010AA NPI), in file order: one 2000C HL 19 loop."""

    name: Name  # of its first 2010AA
    npi: str
    claims: list[Claim837] = field(default_factory=list)


def _by_provider(submission: Submission837) -> list[_ProviderClaims]:
    providers: dict[str, _ProviderClaims] = {}
    for claim in submission.claims:
        if claim.billing is not None:  # no 2010AA before it: nobody to acknowledge it to
            npi = claim.billing.npi
            providers.setdefault(npi, _ProviderClaims(claim.billing.name, npi)).claims.append(claim)
    return list(providers.values())


def _check_rejections(rejected: Mapping[str, Sequence[StatusCode]], claims: Sequence[Claim837]) -> None:
    unknown = set(rejected) - {c.claim_id for c in claims}
    if unknown:
        raise X12DataError(f"no claim {', '.join(sorted(unknown))} in the submission")
    for claim_id, codes in rejected.items():
        if not 1 <= len(codes) <= 3:
            raise X12DataError(f"claim {claim_id}: a rejection carries 1 to 3 status codes")
        if any(c.category not in REJECTED_CATEGORIES for c in codes[:1]):
            raise X12DataError(
                f"claim {claim_id}: the first status code of a rejection needs an A3/A4/A6/A7/A8 category"
            )


def _total(claim: Claim837) -> Decimal:
    return claim.total or Decimal("0")  # a CLM02 that is not a number counts as 0


def write_277ca(
    submission: str,
    *,
    control_numbers: ControlNumbers,
    created: datetime,
    rejected: Mapping[str, Sequence[StatusCode]] | None = None,
    payer_claim_number: Callable[[str], str] | None = None,
    received: date | None = None,
    usage_indicator: str | None = None,
) -> str:
    """A 277CA answering every claim of an 837P `submission`.

    Claims whose id is a key of `rejected` are rejected with those status codes (up to three:
    STC01, STC10, STC11; e.g. StatusCode(category="A7", code="562", entity="85")); every other
    claim is accepted (A2:20) with a payer claim number from `payer_claim_number(claim_id)`
    (default: a number derived from this file's control number and the claim's position).
    """
    rejected = dict(rejected or {})
    sub = read_submission(submission)
    providers = _by_provider(sub)
    if sub.interchange is None or not providers:
        raise X12DataError("the submission holds no 837 claim to acknowledge")
    _check_rejections(rejected, [c for p in providers for c in p.claims])
    envelope = Envelope.answering(
        sub.interchange,
        control_number=control_numbers.interchange,
        group_control_number=control_numbers.group,
        functional_id="HN",
        version=IMPLEMENTATION_277CA,
        created=created,
        usage=usage_indicator,
    )
    isa13 = envelope.isa13
    seq = iter(range(1, 100_000))

    def default_pcn(_claim_id: str) -> str:
        return f"{isa13}{next(seq):05d}"

    buf = SegmentBuffer(DEFAULT_DELIMITERS)
    write_header(buf, envelope)
    start = open_transaction(buf, "277", "0001", IMPLEMENTATION_277CA)
    day = created.strftime("%Y%m%d")
    buf.add("BHT", "0085", "08", isa13, day, created.strftime("%H%M"), "TH")
    _write_source_and_receiver(buf, sub, envelope, rejected, received or created.date())
    hl = 2
    for provider in providers:
        hl = _write_provider(buf, provider, hl, day, rejected, payer_claim_number or default_pcn)
    close_transaction(buf, start, "0001")
    write_trailer(buf, envelope, 1)
    return buf.text()


def _write_source_and_receiver(
    buf: SegmentBuffer, sub: Submission837, envelope: Envelope, rejected: Mapping[str, object], received: date
) -> None:
    """2000A information source (HL 1) and 2000B information receiver (HL 2), with the batch totals."""
    sender, receiver = envelope.sender_id, envelope.receiver_id
    day = envelope.created.strftime("%Y%m%d")
    # 2000A information source: the clearinghouse that received the 837 (its NM1*40).
    rcv = sub.receiver or Name("2", sender, id_qualifier="46", id=sender)
    buf.add("HL", "1", "", "20", "1")
    buf.add("NM1", "AY", "2", rcv.last, "", "", "", "", "46", rcv.id or sender)
    buf.add("TRN", "1", envelope.isa13)
    buf.add("DTP", "050", "D8", received.strftime("%Y%m%d"))
    buf.add("DTP", "009", "D8", day)
    # 2000B information receiver: the submitter (its NM1*41), with batch totals.
    claims = [c for c in sub.claims if c.billing is not None]
    acc = [c for c in claims if c.claim_id not in rejected]
    rej = [c for c in claims if c.claim_id in rejected]
    smt = sub.submitter or Name("2", receiver, id_qualifier="46", id=receiver)
    buf.add("HL", "2", "1", "21", "1")
    buf.add("NM1", "41", smt.entity_type or "2", smt.last, smt.first, smt.middle, "", "", "46", smt.id or receiver)
    assert sub.interchange is not None
    buf.add("TRN", "2", sub.reference or sub.interchange.control_number)
    _totals(buf, day, acc, rej, batch=True)


def _write_provider(
    buf: SegmentBuffer,
    provider: _ProviderClaims,
    hl: int,
    day: str,
    rejected: Mapping[str, Sequence[StatusCode]],
    pcn_for: Callable[[str], str],
) -> int:
    """2000C billing provider (HL 19) and a 2000D patient / 2200D claim per claim; the last HL number."""
    hl += 1
    provider_hl = hl
    p_acc = [c for c in provider.claims if c.claim_id not in rejected]
    p_rej = [c for c in provider.claims if c.claim_id in rejected]
    buf.add("HL", str(provider_hl), "2", "19", "1")
    name = provider.name
    buf.add("NM1", "85", name.entity_type or "2", name.last, name.first, name.middle, "", "", "XX", provider.npi)
    buf.add("TRN", "1", provider.npi)
    _totals(buf, day, p_acc, p_rej, batch=False)
    for claim in provider.claims:
        hl += 1
        buf.context = f"claim {claim.claim_id}"
        buf.add("HL", str(hl), str(provider_hl), "PT")
        patient = claim.patient_name
        buf.add("NM1", "QC", "1", patient.last, patient.first, patient.middle, "", "", "MI", claim.member_id)
        buf.add("TRN", "2", claim.claim_id)
        total = f"{_total(claim):.2f}"
        if claim.claim_id in rejected:
            codes = list(rejected[claim.claim_id])
            extra = [_composite(c) for c in codes[1:]]
            buf.add("STC", _composite(codes[0]), day, "U", total, "", "", "", "", "", *extra)
        else:
            buf.add("STC", ("A2", "20"), day, "WQ", total)
            buf.add("REF", "1K", pcn_for(claim.claim_id))
        first_dos, last_dos = _service_period(claim)
        if first_dos and first_dos != last_dos:
            buf.add("DTP", "472", "RD8", f"{first_dos}-{last_dos}")
        else:
            buf.add("DTP", "472", "D8", first_dos or day)
        buf.context = ""
    return hl


def _service_period(claim: Claim837) -> tuple[str, str]:
    """The first and last DTP*472 date of the claim's lines ("" when none)."""
    first = last = ""
    for line in claim.lines:
        if line.service_date:
            first = min(first or line.service_date, line.service_date)
            last = max(last or line.service_date_end, line.service_date_end)
    return first, last


def _composite(code: StatusCode) -> tuple[str, ...]:
    return (code.category, code.code, code.entity)


def _totals(buf: SegmentBuffer, day: str, acc: list[Claim837], rej: list[Claim837], *, batch: bool) -> None:
    """STC + QTY/AMT for the receiver (batch) or billing provider level."""
    total = sum((_total(c) for c in acc + rej), Decimal("0"))
    # A1:19 = entity acknowledges receipt; 2200C's STC02 (date) is not used in X214.
    buf.add("STC", ("A1", "19"), day if batch else "", "WQ", f"{total:.2f}")
    if acc:
        buf.add("QTY", "90" if batch else "QA", str(len(acc)))
    if rej:
        buf.add("QTY", "AA" if batch else "QC", str(len(rej)))
    if acc:
        buf.add("AMT", "YU", f"{sum((_total(c) for c in acc), Decimal('0')):.2f}")
    if rej:
        buf.add("AMT", "YY", f"{sum((_total(c) for c in rej), Decimal('0')):.2f}")
