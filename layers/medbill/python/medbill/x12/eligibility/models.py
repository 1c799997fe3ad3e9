"""270 eligibility requests and 271 eligibility responses (005010X279A1) as typed dataclasses.

Requests are what we send: typed and checked when written. Responses are what a payer sent, kept as
sent (codes and dates as text, amounts and percents as :class:`~decimal.Decimal`); names, birth
dates, member ids, addresses and MSG free text are hidden from ``repr`` (they are PHI, or may be).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from medbill.x12.eligibility.codes import (
    ACTIVE_CODES,
    CORRECTION_MAINTENANCE,
    FOLLOW_UP_ACTIONS,
    INACTIVE_CODES,
    PLAN_DATES,
    PLAN_REFERENCES,
    REJECT_REASONS,
    FollowUp,
)

Gender = Literal["M", "F", "U"]

# --------------------------------------------------------------------------------------------------
# 270: what we ask


@dataclass(frozen=True, slots=True)
class InformationSource:
    """2100A: the payer asked (NM1*PR, NM108 PI payer id)."""

    payer_id: str
    name: str
    id_qualifier: str = "PI"  # PI payer id, XV CMS plan id


@dataclass(frozen=True, slots=True)
class InformationReceiver:
    """2100B: the provider asking (NM1*1P, NM108 XX = NPI). An organization unless ``first_name`` is set."""

    npi: str
    name: str  # organization name, or the last name of a person
    first_name: str = ""


@dataclass(frozen=True, slots=True)
class Subscriber270:
    """2100C: the insured, as the practice has them (NM1*IL ... MI member id, DMG)."""

    member_id: str = field(repr=False)
    last_name: str = field(repr=False)
    first_name: str = field(repr=False)
    date_of_birth: date | None = field(default=None, repr=False)
    gender: Gender | None = field(default=None, repr=False)
    middle_name: str = field(default="", repr=False)
    suffix: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class Dependent270:
    """2100D: the patient when not the subscriber (NM1*03, DMG; no member id of their own)."""

    last_name: str = field(repr=False)
    first_name: str = field(repr=False)
    date_of_birth: date = field(repr=False)
    gender: Gender | None = field(default=None, repr=False)
    middle_name: str = field(default="", repr=False)
    relationship: str = ""  # INS02: 01 spouse, 19 child, 34 other adult (INS written when set)


@dataclass(frozen=True, slots=True)
class EligibilityRequest:
    """One inquiry: is this member (or their dependent) covered on ``date_of_service``, and for what.

    ``trace_number`` (TRN02, our id, e.g. the claim id) comes back in the 271's TRN so the answer
    matches its question. ``service_types`` are the visit's EQ01 codes; 30 (health benefit plan
    coverage) is always asked first, whatever is given.
    """

    trace_number: str
    source: InformationSource
    receiver: InformationReceiver
    subscriber: Subscriber270
    date_of_service: date
    service_types: tuple[str, ...] = ()
    dependent: Dependent270 | None = None


# --------------------------------------------------------------------------------------------------
# 271: what the payer answered


@dataclass(slots=True)
class Reference:
    qualifier: str  # REF01: 18 plan number, 1L group number, Q4 prior id, SY SSN, ...
    value: str = field(default="", repr=False)  # REF02 (may be a member id or an SSN)
    description: str = field(default="", repr=False)  # REF03: plan or group name


@dataclass(slots=True)
class DatePeriod:
    """DTP: D8 (one date) or RD8 (a range); dates as the CCYYMMDD text sent."""

    qualifier: str  # DTP01
    format: str  # DTP02 D8 / RD8
    start: str
    end: str = ""


@dataclass(slots=True)
class Trace:
    """TRN: TRN01 2 = the 270's trace echoed (referenced), 1 = one the payer added (current)."""

    type: str
    number: str  # TRN02
    originator: str = ""  # TRN03 originating company id
    supplemental: str = ""  # TRN04


@dataclass(slots=True)
class Rejection:
    """AAA: a request the payer could not answer, at one loop, with what to do about it."""

    loop: str  # 2000A, 2100A, 2100B, 2100C, 2110C, 2100D, 2110D
    valid_request: str  # AAA01 Y / N
    reason: str  # AAA03
    follow_up: str  # AAA04
    position: int = field(default=0, compare=False)

    @property
    def meaning(self) -> str:
        return REJECT_REASONS.get(self.reason, "unknown reject reason")

    @property
    def follow_up_meaning(self) -> str:
        known = FOLLOW_UP_ACTIONS.get(self.follow_up)
        return known[0] if known else "unknown follow-up action"

    @property
    def action(self) -> FollowUp | None:
        """Retry later, correct and resend, or do not resend (None for an unknown AAA04)."""
        known = FOLLOW_UP_ACTIONS.get(self.follow_up)
        return known[1] if known else None

    @property
    def retry_after_days(self) -> int | None:
        known = FOLLOW_UP_ACTIONS.get(self.follow_up)
        return known[2] if known else None


@dataclass(slots=True)
class Party:
    """NM1 of the 2100A source, 2100B receiver or a 2120C/D benefit-related entity."""

    entity: str  # NM101: PR payer, 1P provider, P3 primary care provider, PRP primary payer, ...
    entity_type: str = "2"  # NM102: 1 person, 2 organization
    name: str = field(default="", repr=False)  # NM103 (a person's last name is PHI when entity IL)
    first_name: str = field(default="", repr=False)
    id_qualifier: str = ""  # NM108: PI payer id, XX NPI, SV, MI, ...
    id: str = field(default="", repr=False)  # NM109
    contacts: list[tuple[str, str]] = field(default_factory=list, repr=False)  # PER (qualifier, number)
    rejections: list[Rejection] = field(default_factory=list)  # AAA of the 2000A/2100A or 2100B
    position: int = field(default=0, compare=False)


@dataclass(slots=True)
class Benefit:
    """Loop 2110C/D: one EB with its dates, references, rejections, messages and related entities."""

    code: str  # EB01: 1-8 status, A coinsurance, B copay, C deductible, G out of pocket, R other payer, ...
    coverage_level: str = ""  # EB02: IND, FAM, ...
    service_types: list[str] = field(default_factory=list)  # EB03 (repeats)
    insurance_type: str = ""  # EB04
    plan_description: str = ""  # EB05 plan coverage description
    time_period: str = ""  # EB06: 23 calendar year, 27 visit, 29 remaining, ...
    amount: Decimal | None = None  # EB07
    percent: Decimal | None = None  # EB08 (0.2 = 20%)
    quantity_qualifier: str = ""  # EB09
    quantity: Decimal | None = None  # EB10
    authorization_required: str = ""  # EB11 Y/N/U
    in_network: str = ""  # EB12: Y in, N out, W both, U unknown
    procedure: list[str] = field(default_factory=list)  # EB13 composite
    dates: list[DatePeriod] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    messages: list[str] = field(default_factory=list, repr=False)  # MSG free text: never in problems
    entities: list[Party] = field(default_factory=list)  # 2120C/D
    position: int = field(default=0, compare=False)


@dataclass(slots=True)
class Member:
    """Loop 2000C/2100C (subscriber) or 2000D/2100D (dependent), as the payer has them."""

    level: Literal["subscriber", "dependent"]
    hl_id: str = ""
    traces: list[Trace] = field(default_factory=list)
    last_name: str = field(default="", repr=False)
    first_name: str = field(default="", repr=False)
    middle_name: str = field(default="", repr=False)
    suffix: str = field(default="", repr=False)
    id_qualifier: str = ""  # NM108: MI member id, II
    member_id: str = field(default="", repr=False)  # NM109
    references: list[Reference] = field(default_factory=list)
    address: list[str] = field(default_factory=list, repr=False)  # N301, N302
    locality: list[str] = field(default_factory=list, repr=False)  # N401 city, N402 state, N403 postal code
    birth_date: str = field(default="", repr=False)  # DMG02
    gender: str = field(default="", repr=False)  # DMG03
    maintenance: tuple[str, ...] = ()  # INS01..INS04 (INS*Y*18*001*25: identity corrected)
    dates: list[DatePeriod] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    benefits: list[Benefit] = field(default_factory=list)
    inquiries: list[str] = field(default_factory=list)  # 270 only: EQ01 service types asked (2110C/D)
    dependents: list[Member] = field(default_factory=list)
    hl_position: int = field(default=0, compare=False)
    position: int = field(default=0, compare=False)  # of the NM1

    @property
    def trace_numbers(self) -> list[str]:
        return [t.number for t in self.traces]

    @property
    def echoed_traces(self) -> list[str]:
        """TRN01 2: the 270's trace numbers (ours) sent back, which match this answer to its question."""
        return [t.number for t in self.traces if t.type == "2"]

    @property
    def identity_corrected(self) -> bool:
        """INS03 001 + INS04 25: the payer changed the name, id or birth date we sent (REF*Q4 has the old id)."""
        return self.maintenance[2:4] == CORRECTION_MAINTENANCE

    @property
    def prior_member_id(self) -> str | None:
        return self.reference("Q4")

    def reference(self, qualifier: str) -> str | None:
        return next((r.value for r in self.references if r.qualifier == qualifier), None)

    def date(self, qualifier: str) -> DatePeriod | None:
        return next((d for d in self.dates if d.qualifier == qualifier), None)

    @property
    def plan_dates(self) -> dict[str, DatePeriod]:
        """DTP 291 plan, 346/347 plan begin/end, 356/357 eligibility begin/end, by name."""
        return {PLAN_DATES[d.qualifier]: d for d in self.dates if d.qualifier in PLAN_DATES}

    @property
    def plan_references(self) -> list[Reference]:
        return [r for r in self.references if r.qualifier in PLAN_REFERENCES]


@dataclass(slots=True)
class SubscriberResponse:
    """One subscriber (with dependents) and the source and receiver it was answered under."""

    subscriber: Member
    source: Party
    receiver: Party
    control_number: str = ""  # ST02
    reference: str = ""  # BHT03

    @property
    def upper_rejections(self) -> list[Rejection]:
        """Rejections of the source (2000A, 2100A) and receiver (2100B): they reject every member under them."""
        return [*self.source.rejections, *self.receiver.rejections]

    def members(self) -> Iterator[Member]:
        yield self.subscriber
        yield from self.subscriber.dependents

    def status(self, member: Member) -> Literal["active", "inactive", "rejected", "unknown"]:
        """Rejected (an AAA above or on the member), else active / inactive from EB01 1-5 / 6-8."""
        if self.upper_rejections or member.rejections:
            return "rejected"
        codes = {b.code for b in member.benefits}
        if codes & ACTIVE_CODES:
            return "active"
        if codes & INACTIVE_CODES:
            return "inactive"
        return "unknown"


def answers_by_trace(answers: Iterable[SubscriberResponse]) -> dict[str, tuple[SubscriberResponse, Member]]:
    """Our trace number (TRN*2, echoed from the 270) -> the answer and the member (subscriber or
    dependent) it is about. A trace echoed twice keeps its first answer."""
    out: dict[str, tuple[SubscriberResponse, Member]] = {}
    for answer in answers:
        for member in answer.members():
            for trace in member.echoed_traces:
                out.setdefault(trace, (answer, member))
    return out


@dataclass(slots=True)
class EligibilityResponse:
    """One 271 (or, read the same way, 270) transaction (ST..SE). While streaming ``subscribers``
    stays empty (see the reader)."""

    set_id: str = "271"
    control_number: str = ""  # ST02
    version: str = ""  # ST03 / GS08
    purpose: str = ""  # BHT02: 11 response
    reference: str = ""  # BHT03: the 270's BHT03 echoed
    created: str = ""  # BHT04 CCYYMMDD
    sources: list[Party] = field(default_factory=list)  # every 2100A, with 2000A/2100A rejections
    receivers: list[Party] = field(default_factory=list)  # every 2100B, with its rejections
    subscribers: list[SubscriberResponse] = field(default_factory=list)
    problems: list[str] = field(default_factory=list, compare=False)
    position: int = field(default=0, compare=False)
    _stream: Iterator[tuple[str, Any]] | None = field(default=None, compare=False, repr=False)

    def iter_subscribers(self) -> Iterator[SubscriberResponse]:
        """Subscribers streamed from the file while reading, else from ``subscribers``."""
        stream = self._stream
        if stream is None:
            yield from self.subscribers
            return
        for kind, obj in stream:
            if kind == "subscriber":
                yield obj
            else:  # "end": SE read, problems are final
                self._stream = None
                return
        self._stream = None

    def drain(self) -> None:
        for _ in self.iter_subscribers():
            pass

    @property
    def valid(self) -> bool:
        return not self.problems
