"""The 270/271 (005010X279A1) state machine behind the reader: one transaction, one method per
segment id, every structure and code check (see :mod:`medbill.x12.eligibility.reader271`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from medbill.x12.datatypes import X12NumberError, parse_r
from medbill.x12.eligibility import codes as c
from medbill.x12.eligibility.models import (
    Benefit,
    DatePeriod,
    EligibilityResponse,
    Member,
    Party,
    Reference,
    Rejection,
    SubscriberResponse,
    Trace,
)

__all__ = ["Transaction"]

_NAMED_LOOP = {"20": "2100A", "21": "2100B", "22": "2100C", "23": "2100D"}


def _el(parts: list[str], n: int) -> str:
    return parts[n] if n < len(parts) else ""


def _valid_d8(value: str) -> bool:
    if len(value) != 8 or not value.isascii() or not value.isdigit():
        return False
    try:
        datetime.strptime(value, "%Y%m%d")  # a calendar date only
    except ValueError:
        return False
    return True


class Transaction:
    """The state of one transaction being read; one method per segment id (``on_<ID>``)."""

    def __init__(self, resp: EligibilityResponse, comp: str, rep: str | None) -> None:
        self.resp = resp
        self.comp, self.rep = comp, rep
        self.is_271 = resp.set_id == "271"
        self.allowed = c.SEGMENTS_271 if self.is_271 else c.SEGMENTS_270
        self.hl: dict[str, tuple[str, int, str]] = {}  # HL01 -> (level, position, HL04)
        self.parents_seen: set[str] = set()
        self.level = ""  # HL03 of the current HL
        self.hl_id, self.hl_pos = "", 0
        self.named = False  # the current HL's NM1 seen
        self.source: Party | None = None
        self.receiver: Party | None = None
        self.current: SubscriberResponse | None = None
        self.member: Member | None = None
        self.benefit: Benefit | None = None
        self.entity: Party | None = None
        self.ls_position = 0
        self.position = 0
        self.done: list[SubscriberResponse] = []

    # -- helpers -------------------------------------------------------------------------------

    def problem(self, sid: str, text: str) -> None:
        self.resp.problems.append(f"{sid} at segment {self.position}: {text}")

    def where(self) -> str:
        """The loop the next AAA / DTP / REF belongs to."""
        if self.benefit is not None:
            return "2110C" if self.member is not None and self.member.level == "subscriber" else "2110D"
        if not self.named:
            return {"20": "2000A", "21": "2000B", "22": "2000C", "23": "2000D"}.get(self.level, "")
        return _NAMED_LOOP.get(self.level, "")

    def code(self, sid: str, n: int, value: str, table: Any, what: str, *, required: bool = False) -> None:
        if not value:
            if required:
                self.problem(sid, f"{sid}{n:02d} {what} is missing.")
        elif value not in table:
            self.problem(sid, f"{sid}{n:02d} {c.code_shown(value)} is not a {what} code of {c.IMPLEMENTATION_GUIDE}.")

    def number(self, sid: str, n: int, value: str) -> Decimal | None:
        if not value:
            return None
        number = parse_r(value)
        if number is None:
            self.problem(sid, f"{X12NumberError(f'{sid}{n:02d}', value)}; left out.")
        return number

    def flush(self) -> None:
        """The current subscriber is complete: check what it says and hand it out."""
        self.close_hl()
        if self.member is not None and self.member.level == "dependent":
            self.check_member(self.member)
        if self.current is not None:
            self.check_member(self.current.subscriber)
            self.done.append(self.current)
            self.current = None
        self.member = self.benefit = self.entity = None

    def check_member(self, member: Member) -> None:
        """A 271 tells the patient (a dependent, or a subscriber without any) something: an EB or an AAA."""
        if not self.is_271 or self.current is None:
            return
        patient = member.level == "dependent" or not member.dependents
        if patient and not member.benefits and not member.rejections and not self.current.upper_rejections:
            loop = "2110C" if member.level == "subscriber" else "2110D"
            self.resp.problems.append(
                f"HL at segment {member.hl_position}: the {member.level} (HL {member.hl_id}) has no EB "
                f"(loop {loop}) and no AAA: the response says nothing about their coverage."
            )

    def close_hl(self) -> None:
        if self.level and not self.named:
            loop = _NAMED_LOOP.get(self.level, "")
            self.resp.problems.append(
                f"HL at segment {self.hl_pos}: the {c.LEVELS.get(self.level, 'level')} (HL {self.hl_id}) has no "
                f"NM1 (loop {loop} is required)."
            )
        self.named = True
        if self.ls_position:
            self.resp.problems.append(f"LS at segment {self.ls_position}: no LE closes the 2120 loop.")
            self.ls_position = 0

    # -- hierarchy ----------------------------------------------------------------------------

    def on_HL(self, parts: list[str]) -> None:
        hl_id, parent, level, child = _el(parts, 1), _el(parts, 2), _el(parts, 3), _el(parts, 4)
        if level in ("20", "21", "22"):
            self.flush()
        else:
            self.close_hl()
            if self.member is not None and self.member.level == "dependent":
                self.check_member(self.member)
            self.benefit = self.entity = None
        self.level, self.hl_id, self.hl_pos, self.named = level, hl_id, self.position, False
        if not hl_id or hl_id in self.hl:
            self.problem("HL", f"HL01 {'is missing' if not hl_id else 'repeats an earlier HL01'}.")
        self.hl[hl_id] = (level, self.position, child)
        if child not in ("0", "1"):
            self.problem("HL", f"HL04 {c.code_shown(child)} is not 0 (no child) or 1 (children follow).")
        if level not in c.LEVELS:
            self.problem("HL", f"HL03 {c.code_shown(level)} is not a 270/271 level (20, 21, 22, 23); skipped.")
            self.level = ""
            return
        self._parent(level, parent)
        getattr(self, f"_level_{level}")()

    def _parent(self, level: str, parent: str) -> None:
        expected = c.PARENT_LEVEL.get(level)
        if expected is None:
            if parent:
                self.problem("HL", "HL02 must be empty for the information source (HL03 20).")
            return
        found = self.hl.get(parent)
        if found is None:
            self.problem("HL", f"HL02 names no earlier HL; a {c.LEVELS[level]} needs a parent HL {expected}.")
            return
        if found[0] != expected:
            level_name = c.LEVELS[level]
            self.problem(
                "HL", f"HL02 names an HL {c.code_shown(found[0])}; a {level_name} belongs under HL {expected}."
            )
        if found[2] == "0":
            self.problem("HL", f"HL02 names the HL at segment {found[1]}, whose HL04 0 says it has no children.")
        self.parents_seen.add(parent)

    def _level_20(self) -> None:
        self.source, self.receiver = Party("", position=self.position), None
        self.resp.sources.append(self.source)

    def _level_21(self) -> None:
        self.receiver = Party("", position=self.position)
        self.resp.receivers.append(self.receiver)
        if self.source is None:
            self.source = Party("")

    def _level_22(self) -> None:
        self.member = Member("subscriber", hl_id=self.hl_id, hl_position=self.position)
        source = self.source or Party("")
        receiver = self.receiver or Party("")
        self.current = SubscriberResponse(self.member, source, receiver, self.resp.control_number, self.resp.reference)

    def _level_23(self) -> None:
        self.member = Member("dependent", hl_id=self.hl_id, hl_position=self.position)
        if self.current is None:
            self.problem("HL", "a dependent (HL03 23) outside any subscriber; its content is not kept.")
            self.member = None
            return
        self.current.subscriber.dependents.append(self.member)

    # -- names and members -----------------------------------------------------------------------

    def on_NM1(self, parts: list[str]) -> None:
        p = parts + [""] * (10 - len(parts)) if len(parts) < 10 else parts
        if self.benefit is not None and self.ls_position:
            self.entity = Party(p[1], p[2], p[3], p[4], p[8], p[9], position=self.position)
            self.benefit.entities.append(self.entity)
            self.code("NM1", 1, p[1], c.RELATED_ENTITIES, "2120 entity identifier")
            return
        if self.named or not self.level:
            self.problem("NM1", "no NM1 belongs here (each HL has one; a 2120 entity sits between LS and LE).")
            return
        self.named = True
        if self.level in ("20", "21"):
            party = self.source if self.level == "20" else self.receiver
            assert party is not None
            party.entity, party.entity_type, party.name, party.first_name = p[1], p[2], p[3], p[4]
            party.id_qualifier, party.id = p[8], p[9]
            table = c.SOURCE_ENTITIES if self.level == "20" else c.RECEIVER_ENTITIES
            self.code("NM1", 1, p[1], table, f"loop {self.where()} entity identifier", required=True)
        elif self.member is not None:
            m = self.member
            m.last_name, m.first_name, m.middle_name, m.suffix = p[3], p[4], p[5], p[7]
            m.id_qualifier, m.member_id, m.position = p[8], p[9], self.position
            expected = "IL" if m.level == "subscriber" else "03"
            if p[1] != expected:
                self.problem("NM1", f"NM101 {c.code_shown(p[1])} is not {expected} ({m.level} name).")
            if m.level == "subscriber" and not p[9] and not (self.current and self.current.upper_rejections):
                self.problem("NM1", "NM109 subscriber member id is missing.")

    def on_TRN(self, parts: list[str]) -> None:
        if self.member is None or self.named or self.level not in ("22", "23"):
            self.problem("TRN", "a trace number belongs to a subscriber or dependent (2000C/2000D), before its NM1.")
            return
        trace = Trace(_el(parts, 1), _el(parts, 2), _el(parts, 3), _el(parts, 4))
        self.member.traces.append(trace)
        allowed = ("1", "2") if self.is_271 else ("1",)
        if trace.type not in allowed:
            self.problem("TRN", f"TRN01 {c.code_shown(trace.type)} is not {' or '.join(allowed)}.")
        if not trace.number:
            self.problem("TRN", "TRN02 trace number is missing.")

    def _member_only(self, sid: str) -> Member | None:
        if self.member is None or self.benefit is not None or not self.named:
            if sid in ("N3", "N4") and (self.entity is not None or self.level == "21"):
                return None  # a 2120 entity's or the 270 receiver's address: allowed, not kept
            self.problem(sid, "belongs to a subscriber or dependent name loop (2100C/2100D).")
            return None
        return self.member

    def on_DMG(self, parts: list[str]) -> None:
        if (m := self._member_only("DMG")) is not None:
            m.birth_date, m.gender = _el(parts, 2), _el(parts, 3)
            if _el(parts, 1) != "D8" or not _valid_d8(m.birth_date):
                self.problem("DMG", "DMG01/DMG02 birth date is not a D8 calendar date (CCYYMMDD).")

    def on_INS(self, parts: list[str]) -> None:
        if (m := self._member_only("INS")) is not None:
            m.maintenance = tuple(parts[1:5])

    def on_N3(self, parts: list[str]) -> None:
        if (m := self._member_only("N3")) is not None:
            m.address = [a for a in parts[1:3] if a]

    def on_N4(self, parts: list[str]) -> None:
        if (m := self._member_only("N4")) is not None:
            m.locality = parts[1:4]

    def on_REF(self, parts: list[str]) -> None:
        ref = Reference(_el(parts, 1), _el(parts, 2), _el(parts, 3))
        target = self.benefit if self.benefit is not None else self.member if self.named else None
        if target is None or self.entity is not None:
            if self.level != "21":  # 2100B REF (provider ids) is allowed and not kept
                self.problem("REF", "belongs to a member (2100C/D) or a benefit (2110C/D).")
            return
        target.references.append(ref)
        self.code("REF", 1, ref.qualifier, c.REFERENCE_QUALIFIERS, "reference qualifier", required=True)

    def on_PER(self, parts: list[str]) -> None:
        party = self.entity or (self.source if self.level == "20" and self.named else None)
        if party is None:
            self.problem("PER", "a contact belongs to the information source (2100A) or a 2120 entity.")
            return
        party.contacts.extend((parts[i], parts[i + 1]) for i in range(3, len(parts) - 1, 2) if parts[i])

    def on_DTP(self, parts: list[str]) -> None:
        qualifier, fmt, value = _el(parts, 1), _el(parts, 2), _el(parts, 3)
        target = self.benefit if self.benefit is not None else self.member if self.named else None
        if target is None:
            self.problem("DTP", "a date belongs to a member (2100C/D) or a benefit (2110C/D).")
            return
        self.code("DTP", 1, qualifier, c.DATE_QUALIFIERS, "date qualifier", required=True)
        start, _, end = value.partition("-")
        if fmt == "D8" and _valid_d8(value):
            target.dates.append(DatePeriod(qualifier, fmt, value))
        elif fmt == "RD8" and _valid_d8(start) and _valid_d8(end) and start <= end:
            target.dates.append(DatePeriod(qualifier, fmt, start, end))
        elif fmt not in c.DATE_FORMATS:
            self.problem("DTP", f"DTP02 {c.code_shown(fmt)} is not D8 or RD8; the date is left out.")
        else:
            what = "CCYYMMDD" if fmt == "D8" else "CCYYMMDD-CCYYMMDD with the start first"
            self.problem("DTP", f"DTP03 is not a {fmt} date ({what}); the date is left out.")

    def on_AAA(self, parts: list[str]) -> None:
        loop = self.where()
        target: Party | Member | Benefit | None = None
        if loop in ("2100C", "2100D", "2110C", "2110D"):
            target = self.benefit if self.benefit is not None else self.member
        elif loop in ("2000A", "2100A"):
            target = self.source
        elif loop == "2100B":
            target = self.receiver
        if target is None or self.entity is not None:
            self.problem("AAA", "a rejection belongs to loop 2000A, 2100A, 2100B, 2100C, 2110C, 2100D or 2110D.")
            return
        rej = Rejection(loop, _el(parts, 1), _el(parts, 3), _el(parts, 4), self.position)
        target.rejections.append(rej)
        if rej.valid_request not in ("Y", "N"):
            self.problem("AAA", f"AAA01 {c.code_shown(rej.valid_request)} is not Y or N.")
        if not rej.reason:
            self.problem("AAA", "AAA03 reject reason is missing.")
        elif rej.reason not in c.REJECT_REASONS_BY_LOOP[loop]:
            known = "" if rej.reason in c.REJECT_REASONS else ", nor any 271 reject reason"
            self.problem("AAA", f"AAA03 {c.code_shown(rej.reason)} is not a reject reason of loop {loop}{known}.")
        if rej.follow_up not in c.FOLLOW_UP_ACTIONS:
            self.problem("AAA", f"AAA04 {c.code_shown(rej.follow_up)} is not a follow-up action (C N P R S W X Y).")

    # -- benefits -----------------------------------------------------------------------------------

    def on_EQ(self, parts: list[str]) -> None:
        if self.member is None or not self.named:
            self.problem("EQ", "an inquiry belongs to a subscriber or dependent (2110C/2110D).")
            return
        for code in _el(parts, 1).split(self.rep) if self.rep else [_el(parts, 1)]:
            self.member.inquiries.append(code)
            self.code("EQ", 1, code, c.SERVICE_TYPES, "service type", required=True)

    def on_EB(self, parts: list[str]) -> None:
        if self.member is None or not self.named:
            self.problem("EB", "a benefit belongs to a subscriber or dependent (2110C/2110D).")
            return
        if self.ls_position:
            self.resp.problems.append(f"LS at segment {self.ls_position}: no LE closes the 2120 loop.")
            self.ls_position = 0
        p = parts + [""] * (14 - len(parts)) if len(parts) < 14 else parts
        b = Benefit(p[1], p[2], [s for s in p[3].split(self.rep or "\x00") if s] if p[3] else [], p[4], p[5], p[6])
        b.amount, b.percent = self.number("EB", 7, p[7]), self.number("EB", 8, p[8])
        b.quantity_qualifier, b.quantity = p[9], self.number("EB", 10, p[10])
        b.authorization_required, b.in_network = p[11], p[12]
        b.procedure = p[13].split(self.comp) if p[13] else []
        b.position = self.position
        self.benefit, self.entity = b, None
        self.member.benefits.append(b)
        self._check_eb(b, p)

    def _check_eb(self, b: Benefit, p: list[str]) -> None:
        self.code("EB", 1, b.code, c.BENEFIT_CODES, "eligibility or benefit", required=True)
        self.code("EB", 2, b.coverage_level, c.COVERAGE_LEVELS, "coverage level")
        for code in b.service_types:
            self.code("EB", 3, code, c.SERVICE_TYPES, "service type")
        self.code("EB", 4, b.insurance_type, c.INSURANCE_TYPES, "insurance type")
        self.code("EB", 6, b.time_period, c.TIME_PERIODS, "time period qualifier")
        self.code("EB", 9, b.quantity_qualifier, c.QUANTITY_QUALIFIERS, "quantity qualifier")
        self.code("EB", 11, b.authorization_required, c.YES_NO_UNKNOWN, "authorization indicator")
        self.code("EB", 12, b.in_network, c.NETWORK, "in plan network indicator")
        if bool(p[9]) != bool(p[10]):
            self.problem("EB", "EB09 quantity qualifier and EB10 quantity go together; one is missing.")
        if b.percent is not None and not 0 <= b.percent <= 1:
            self.problem("EB", "EB08 percent is outside 0..1 (the guide writes 80% as .80).")
        if b.code == "A" and not p[8]:
            self.problem("EB", "EB08 percent is missing for a co-insurance (EB01 A).")
        if b.code in ("B", "C", "G") and not p[7]:
            self.problem("EB", f"EB07 amount is missing for a {c.BENEFIT_CODES[b.code].lower()} (EB01 {b.code}).")

    def on_MSG(self, parts: list[str]) -> None:
        if self.benefit is None:
            self.problem("MSG", "a message belongs to a benefit (2110C/2110D).")
            return
        self.benefit.messages.append(_el(parts, 1))

    def on_LS(self, parts: list[str]) -> None:
        if self.benefit is None or self.ls_position:
            self.problem("LS", "LS opens a 2120 loop inside a benefit (2110C/2110D), once.")
            return
        if _el(parts, 1) != "2120":
            self.problem("LS", "LS01 must be 2120.")
        self.ls_position = self.position

    def on_LE(self, parts: list[str]) -> None:
        if not self.ls_position:
            self.problem("LE", "no LS opened a 2120 loop.")
            return
        if _el(parts, 1) != "2120":
            self.problem("LE", "LE01 must be 2120.")
        self.ls_position = 0
        self.entity = None

    def on_BHT(self, parts: list[str]) -> None:
        self.resp.purpose, self.resp.reference, self.resp.created = _el(parts, 2), _el(parts, 3), _el(parts, 4)
        if _el(parts, 1) != "0022":
            self.problem("BHT", "BHT01 must be 0022 (information source, receiver, subscriber, dependent).")
        expected = ("11",) if self.is_271 else ("01", "13")
        if self.resp.purpose not in expected:
            self.problem("BHT", f"BHT02 {c.code_shown(self.resp.purpose)} is not {' or '.join(expected)}.")

    def ignore(self, parts: list[str]) -> None:
        """PRV, HI, MPI, HSD, III, AMT: allowed, not needed for the answer."""

    def feed(self, sid: str, parts: list[str], position: int) -> None:
        self.position = position
        if sid not in self.allowed:
            self.problem(sid, f"not a segment of the {self.resp.set_id} ({c.IMPLEMENTATION_GUIDE}); ignored.")
            return
        if sid != "BHT" and not self.level and sid != "HL":
            if not self.hl:
                self.problem(sid, "comes before the first HL; ignored.")
            return  # inside a skipped HL: reported there
        getattr(self, f"on_{sid}", self.ignore)(parts)

    def finish(self) -> None:
        self.flush()
        for hl_id, (level, position, child) in self.hl.items():
            if child == "1" and hl_id not in self.parents_seen and level in c.LEVELS:
                self.resp.problems.append(f"HL at segment {position}: HL04 1 says children follow, but none does.")
