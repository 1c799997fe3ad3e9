"""One DFT^P03 / DFT^P11 message -> an encounter record (JSON shape) with the HL7 location of every field.

docs/ehr-intake.md has the mapping table. What the message leaves out (billing provider, default place
of service, clearinghouse payer ids, rendering taxonomies) comes from the clinic's profile.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from medbill.intake.hl7v2.codes import (
    DIAGNOSIS_PROBLEM,
    PATIENT_CLASS_POS,
    RELATIONSHIP,
    SEX,
    classify_diagnosis,
    is_procedure,
)
from medbill.intake.hl7v2.segments import Message, Segment
from medbill.intake.mapped import Mapped, billing_provider_of
from medbill.models.clinic_profile import ClinicProfile
from medbill.models.common import npi_check_digit_ok
from medbill.models.encounter import normalize_icd10

_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})")
_NPI_OID = "2.16.840.1.113883.4.6"
_CENT = Decimal("0.01")


def hl7_date(value: str) -> str | None:
    """HL7 DT / DTM ('19880818', '198808181126+0215') -> '1988-08-18'; None when there is no full date."""
    m = _DATE.match(value)
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}" if m else None


def _put_date(mapped: Mapped, path: str, seg: Segment, f: int, what: str) -> None:
    value, location = seg.get(f), seg.loc(f)
    if value and hl7_date(value) is None:
        mapped.problem(path, location, f"{what} is not a date (YYYYMMDD)")
        return
    mapped.put(path, hl7_date(value), location)


def _put_person(mapped: Mapped, base: str, seg: Segment, fields: tuple[int, int, int, int]) -> None:
    """XPN name, DOB, sex, XAD address from `fields` = (name, dob, sex, address) of `seg`."""
    name, dob, sex, address = fields
    mapped.put(f"{base}.last_name", seg.get(name, 1, 1), seg.loc(name, 1))
    mapped.put(f"{base}.first_name", seg.get(name, 2), seg.loc(name, 2))
    mapped.put(f"{base}.middle_name", seg.get(name, 3) or None, seg.loc(name, 3))
    _put_date(mapped, f"{base}.date_of_birth", seg, dob, "the date of birth")
    raw_sex = seg.get(sex).upper()
    mapped.put(f"{base}.sex", SEX.get(raw_sex, raw_sex), seg.loc(sex))
    mapped.where[f"{base}.address"] = seg.loc(address)
    mapped.put(f"{base}.address.line1", seg.joined(address, 1), seg.loc(address, 1))
    mapped.put(f"{base}.address.line2", seg.get(address, 2) or None, seg.loc(address, 2))
    mapped.put(f"{base}.address.city", seg.get(address, 3), seg.loc(address, 3))
    mapped.put(f"{base}.address.state", seg.get(address, 4), seg.loc(address, 4))
    zip_code = re.sub(r"[\s-]", "", seg.get(address, 5))
    mapped.put(f"{base}.address.postal_code", zip_code, seg.loc(address, 5))


def _encounter_id(msg: Message, profile: ClinicProfile) -> tuple[str, str]:
    """(value, location) of the encounter id where the clinic's profile says it is."""
    field_name = profile.hl7.encounter_id_field
    sid, f = field_name.split("-")
    seg = msg.first(sid)
    return (seg.get(int(f)) if seg else ""), (seg.loc(int(f)) if seg else field_name)


def _coverage(mapped: Mapped, msg: Message, profile: ClinicProfile) -> None:
    """IN1 (with its IN2) per coverage, in the order the message gives them (IN1-1 set id 1, 2, 3):
    the first is the primary, the next two the secondary and tertiary (837P 2320 / the next payers)."""
    in1s = msg.all("IN1")
    mapped.where["coverage"] = "IN1"
    if not in1s:
        mapped.problem("coverage", "IN1", "is required: the primary insurance (IN1 with IN1-3, IN1-36)")
        return
    _one_coverage(mapped, msg, profile, in1s[0], "coverage", "subscriber")
    if len(in1s) > 3:
        mapped.problem(
            "other_coverages", in1s[3].loc(1), "holds a fourth coverage: at most primary, secondary, tertiary"
        )
        return
    for n, in1 in enumerate(in1s[1:], start=1):
        mapped.where[f"other_coverages.{n}"] = in1.loc(1)
        _one_coverage(mapped, msg, profile, in1, f"other_coverages.{n}.coverage", f"other_coverages.{n}.subscriber")


def _one_coverage(mapped: Mapped, msg: Message, profile: ClinicProfile, in1: Segment, cov: str, sub: str) -> None:
    following = msg.segments[msg.segments.index(in1) + 1 :]
    in2 = following[0] if following and following[0].id == "IN2" else None
    ehr_payer = in1.get(3) or in1.get(2)
    route = profile.payer_route(ehr_payer) if ehr_payer else None
    if route is not None:
        via = f"{in1.loc(3)} (via the clinic profile)"
        mapped.put(f"{cov}.payer_id", route.payer_id, via)
        mapped.put(f"{cov}.payer_name", route.payer_name, via)
        mapped.put(f"{cov}.claim_filing_indicator", route.claim_filing_indicator, via)
    else:
        mapped.put(f"{cov}.payer_id", in1.get(3), in1.loc(3))
        mapped.put(f"{cov}.payer_name", in1.get(4), in1.loc(4))
    member = [(in1.get(36), in1.loc(36)), (in1.get(49), in1.loc(49))]
    if in2 is not None:
        member += [(in2.get(6), in2.loc(6)), (in2.get(8), in2.loc(8))]
    value, location = next(((v, loc) for v, loc in member if v), ("", in1.loc(36)))
    mapped.put(f"{cov}.member_id", value, location)
    mapped.put(f"{cov}.group_number", in1.get(8) or None, in1.loc(8))
    _subscriber(mapped, msg, in1, sub)


def _subscriber(mapped: Mapped, msg: Message, in1: Segment, base: str = "subscriber") -> None:
    code = in1.get(17).upper()
    relationship = RELATIONSHIP.get(code, "other") if code else "self"
    mapped.where[base] = in1.loc(17)
    mapped.put(f"{base}.relationship", relationship, in1.loc(17))
    if relationship == "self":
        return
    mapped.where[f"{base}.person"] = in1.loc(16)
    if in1.get(16):
        _put_person(mapped, f"{base}.person", in1, (16, 18, 43, 19))
        return
    # The insured is often sent as the guarantor: GT1 with the same relationship to the patient.
    for gt1 in msg.all("GT1"):
        if RELATIONSHIP.get(gt1.get(11).upper(), "other") == relationship and gt1.get(3):
            _put_person(mapped, f"{base}.person", gt1, (3, 8, 9, 5))
            return
    mapped.problem(f"{base}.person", in1.loc(16), "is required when IN1-17 says the patient is not the insured")


def _guarantor(mapped: Mapped, msg: Message) -> None:
    """GT1 (the first with a name and an address): who owes the patient balance; the statement is
    addressed to them. GT1-3 name, GT1-5 address, GT1-11 relationship to the patient. A GT1 without an
    address (senders often send only the name) cannot be mailed: the statement then goes to the
    subscriber or the patient, as for JSON and CSV files without a guarantor."""
    gt1 = next((g for g in msg.all("GT1") if g.get(3) and g.get(5, 1)), None)
    if gt1 is None:
        return
    mapped.where["guarantor"] = gt1.loc(3)
    code = gt1.get(11).upper()
    mapped.put("guarantor.relationship", RELATIONSHIP.get(code, "other") if code else "self", gt1.loc(11))
    mapped.put("guarantor.last_name", gt1.get(3, 1, 1), gt1.loc(3, 1))
    mapped.put("guarantor.first_name", gt1.get(3, 2) or None, gt1.loc(3, 2))
    mapped.put("guarantor.middle_name", gt1.get(3, 3) or None, gt1.loc(3, 3))
    mapped.where["guarantor.address"] = gt1.loc(5)
    mapped.put("guarantor.address.line1", gt1.joined(5, 1), gt1.loc(5, 1))
    mapped.put("guarantor.address.line2", gt1.get(5, 2) or None, gt1.loc(5, 2))
    mapped.put("guarantor.address.city", gt1.get(5, 3), gt1.loc(5, 3))
    mapped.put("guarantor.address.state", gt1.get(5, 4), gt1.loc(5, 4))
    mapped.put("guarantor.address.postal_code", re.sub(r"[\s-]", "", gt1.get(5, 5)), gt1.loc(5, 5))


def _diagnoses(mapped: Mapped, msg: Message, lines: list[Segment]) -> list[str]:
    """ICD-10-CM codes: DG1 (DG1-15 priority 1 first), then codes only FT1-19 / PR1-15 name."""
    codes: list[str] = []
    mapped.where["diagnoses"] = "DG1"

    def add(seg: Segment, f: int, r: int) -> None:
        comps = [*seg.components(f, r), *[""] * 12]
        method = seg.get(2) if seg.id == "DG1" else ""
        kind, code = classify_diagnosis([(comps[0], comps[2]), (comps[3], comps[5]), (comps[9], comps[11])], method)
        location = seg.loc(f)
        if kind == "empty":
            return
        if kind != "icd10" or code is None:
            mapped.problem("diagnoses", location, DIAGNOSIS_PROBLEM[kind])
            return
        if normalize_icd10(code) in {normalize_icd10(c) for c in codes}:
            return
        codes.append(code)
        mapped.put(f"diagnoses.{len(codes)}", code, location)

    dg1s = sorted(msg.all("DG1"), key=lambda s: 0 if s.get(15) == "1" else 1)
    for dg1 in dg1s:
        add(dg1, 3, 1)
    for seg in lines:
        f = 19 if seg.id == "FT1" else 15
        for r in range(1, seg.repetitions(f) + 1):
            add(seg, f, r)
    for pr1 in msg.all("PR1"):
        add(pr1, 15, 1)
    if not codes and not any(p[0] == "diagnoses" for p in mapped.problems):
        mapped.problem("diagnoses", "DG1-3", "is required: at least one ICD-10-CM diagnosis (DG1, FT1-19 or PR1-15)")
    return codes


def _pointers(seg: Segment, codes: list[str], related: Segment | None) -> list[int]:
    """1-based positions of the line's diagnoses (FT1-19, else its PR1-15); the principal when none."""
    keys = [normalize_icd10(c) for c in codes]
    found: list[int] = []
    sources = [(seg, 19 if seg.id == "FT1" else 15)] + ([(related, 15)] if related else [])
    for source, f in sources:
        for r in range(1, source.repetitions(f) + 1):
            comps = [*source.components(f, r), *[""] * 12]
            for code in (comps[0], comps[3], comps[9]):
                key = normalize_icd10(code) if code else ""
                if key in keys and keys.index(key) + 1 not in found:
                    found.append(keys.index(key) + 1)
        if found:
            return found
    return [1]


def _amount(mapped: Mapped, path: str, seg: Segment, f: int) -> Decimal | None:
    value, currency = seg.get(f, 1, 1), seg.get(f, 1, 2).upper()
    if not value:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        mapped.problem(path, seg.loc(f), "is not an amount")
        return None
    if not amount.is_finite():
        mapped.problem(path, seg.loc(f), "is not an amount")
        return None
    if currency and currency != "USD":
        mapped.problem(path, seg.loc(f), "is not in USD")
        return None
    return amount


def _same(a: Decimal, b: Decimal) -> bool:
    return a.quantize(_CENT, ROUND_HALF_UP) == b.quantize(_CENT, ROUND_HALF_UP)


def _charge(mapped: Mapped, n: int, ft1: Segment, profile: ClinicProfile) -> None:
    path = f"service_lines.{n}.charge"
    extended: Decimal | None = None
    field_name = profile.hl7.charge_fields[0]
    for field_name in profile.hl7.charge_fields:
        extended = _amount(mapped, path, ft1, int(field_name.split("-")[1]))
        if extended is not None:
            break
    location = ft1.loc(int(field_name.split("-")[1]))
    unit = _amount(mapped, path, ft1, 12)
    try:
        quantity = Decimal(ft1.get(10) or "1")
    except InvalidOperation:
        quantity = Decimal(1)  # FT1-10 itself is rejected by the model
    if extended is None and unit is not None and quantity.is_finite():
        extended, location = unit * quantity, ft1.loc(12)
    elif extended is not None and unit is not None and quantity.is_finite() and not _same(unit * quantity, extended):
        mapped.problem(path, location, "is not FT1-12 (unit amount) times FT1-10 (quantity)")
        return
    if extended is not None and extended != 0:  # 0: not priced by the EHR; the fee schedule prices it
        mapped.put(path, str(extended), location)
    mapped.where.setdefault(path, location)


def _procedure(mapped: Mapped, n: int, seg: Segment, fields: list[str], related: Segment | None) -> None:
    path = f"service_lines.{n}.procedure_code"
    first: tuple[str, str] | None = None
    for name in fields:
        sid, f = name.split("-")
        source = seg if sid == seg.id else related
        if source is None:
            continue
        code, system = source.get(int(f), 1), source.get(int(f), 3)
        if code and first is None:
            first = (code, source.loc(int(f)))
        if code and is_procedure(code, system):
            mapped.put(path, code.upper(), source.loc(int(f)))
            return
    if first is None:
        mapped.problem(path, seg.loc(int(fields[0].split("-")[1])), "is required: the CPT / HCPCS code of the line")
    else:
        mapped.problem(path, first[1], "is not a CPT or HCPCS code (coding system C4 / HCPCS)")


def _related_pr1(msg: Message, seg: Segment, fields: Sequence[str]) -> Segment | None:
    """The PR1 for an FT1 charge: the one with the same procedure code."""
    codes = {seg.get(int(f.split("-")[1])).upper() for f in fields if f.startswith("FT1")} - {""}
    return next((p for p in msg.all("PR1") if p.get(3).upper() in codes), None)


def _lines(mapped: Mapped, msg: Message, profile: ClinicProfile, codes: list[str], lines: list[Segment]) -> None:
    mapped.where["service_lines"] = "PR1" if profile.hl7.line_source == "PR1" else "FT1"
    for n, seg in enumerate(lines, start=1):
        base = f"service_lines.{n}"
        mapped.where[base] = seg.loc(1)
        if seg.id == "FT1":
            if seg.get(6).upper() not in ("", "CG"):
                mapped.problem(base, seg.loc(6), "is not CG (a charge): credits and adjustments are not read from HL7")
                continue
            related = _related_pr1(msg, seg, profile.hl7.procedure_fields)
            _procedure(mapped, n, seg, list(profile.hl7.procedure_fields), related)
            mods = [seg.get(26, 1, 1, r).upper() for r in range(1, seg.repetitions(26) + 1)]
            mod_seg, mod_f = seg, 26
            if not any(mods) and related is not None:
                mods = [related.get(16, 1, 1, r).upper() for r in range(1, related.repetitions(16) + 1)]
                mod_seg, mod_f = related, 16
            mapped.put(f"{base}.units", seg.get(10) or None, seg.loc(10))
            _charge(mapped, n, seg, profile)
        else:
            related = None
            _procedure(mapped, n, seg, ["PR1-3"], None)
            mods = [seg.get(16, 1, 1, r).upper() for r in range(1, seg.repetitions(16) + 1)]
            mod_seg, mod_f = seg, 16
        mapped.where[f"{base}.modifiers"] = mod_seg.loc(mod_f)
        for m, mod in enumerate([m for m in mods if m], start=1):
            mapped.put(f"{base}.modifiers.{m}", mod, mod_seg.loc(mod_f))
        where = seg.loc(19 if seg.id == "FT1" else 15)
        mapped.put(f"{base}.diagnosis_pointers", _pointers(seg, codes, related), where)


def _date_and_place(mapped: Mapped, msg: Message, profile: ClinicProfile, lines: list[Segment]) -> None:
    pv1 = msg.first("PV1")
    date_field = 4 if profile.hl7.line_source == "FT1" else 5
    dated = [(hl7_date(s.get(date_field)), s) for s in lines if s.get(date_field)]
    if dated:
        first_date, first_seg = dated[0]
        for d, s in dated:
            if d is None:
                mapped.problem("date_of_service", s.loc(date_field), "is not a date (YYYYMMDD)")
                break
            if d != first_date:
                mapped.problem("date_of_service", s.loc(date_field), "differs between lines: send one message per date")
                break
        else:
            mapped.put("date_of_service", first_date, first_seg.loc(date_field))
    elif pv1 is not None and pv1.get(44):
        _put_date(mapped, "date_of_service", pv1, 44, "the admit date")
    else:
        where = f"{lines[0].loc(date_field)}" if lines else "FT1-4"
        mapped.problem("date_of_service", where, "is required: the date of service")
    cared = [(pv1, 3)] if pv1 is not None and pv1.get(3) else [(s, 16) for s in lines if s.get(16)][:1]
    patient_class = pv1.get(2).upper() if pv1 else ""
    if cared and cared[0][0].get(cared[0][1]) in profile.hl7.locations:
        seg, f = cared[0]
        mapped.put("place_of_service", profile.hl7.locations[seg.get(f)], f"{seg.loc(f)} (via the clinic profile)")
    elif patient_class in PATIENT_CLASS_POS:
        mapped.put("place_of_service", PATIENT_CLASS_POS[patient_class], "PV1-2")
    else:
        mapped.put("place_of_service", profile.default_place_of_service, "clinic profile default_place_of_service")


def _rendering(mapped: Mapped, msg: Message, profile: ClinicProfile, lines: list[Segment]) -> None:
    """FT1-20 (performed by) of the first line, else PV1-7 (attending): an XCN whose id is an NPI."""
    candidates = [(s, 20) for s in lines[:1] if s.id == "FT1"] + [(s, 7) for s in msg.all("PV1")[:1]]
    for seg, f in candidates:
        comps = [*seg.components(f), *[""] * 13]
        npi = comps[0]
        if not npi:
            continue
        named_npi = comps[12].upper() == "NPI" or _NPI_OID in comps[8] or comps[8].upper().startswith("NPI")
        if not (named_npi or npi_check_digit_ok(npi)) or npi == profile.billing_provider.npi:
            return  # not an NPI (UPIN, local id), or the billing provider renders: no rendering provider
        mapped.where["rendering_provider"] = seg.loc(f)
        mapped.put("rendering_provider.npi", npi, seg.loc(f, 1))
        mapped.put("rendering_provider.last_name", comps[1], seg.loc(f, 2))
        mapped.put("rendering_provider.first_name", comps[2] or None, seg.loc(f, 3))
        taxonomy = profile.rendering_taxonomy(npi)
        if taxonomy is None:
            mapped.problem(
                "rendering_provider.taxonomy", seg.loc(f, 1), "names a provider the clinic profile does not list"
            )
        mapped.put("rendering_provider.taxonomy", taxonomy, seg.loc(f, 1))
        return


def map_dft(msg: Message, profile: ClinicProfile) -> tuple[Mapped, str | None]:
    """The encounter record of a DFT message and its encounter id (None when the message has none)."""
    mapped = Mapped()
    mapped.where[""] = "MSH"  # a rule about the message as a whole
    mapped.put("clinic_id", profile.clinic_id, "clinic profile")
    encounter_id, where = _encounter_id(msg, profile)
    if encounter_id:
        mapped.put("encounter_id", encounter_id, where)
    else:
        mapped.problem("encounter_id", where, "is required: it is the encounter id (the same on a resend)")
    pid = msg.first("PID")
    mapped.where["patient"] = "PID"
    if pid is None:
        mapped.problem("patient", "PID", "is required: the patient")
    else:
        _put_person(mapped, "patient", pid, (5, 7, 8, 11))
    _coverage(mapped, msg, profile)
    _guarantor(mapped, msg)
    mapped.where["billing_provider"] = "clinic profile billing_provider"
    mapped.raw["billing_provider"] = billing_provider_of(profile)
    lines = msg.all("FT1") if profile.hl7.line_source == "FT1" else msg.all("PR1")
    if not lines:
        mapped.problem("service_lines", profile.hl7.line_source, "is required: at least one charge")
    _date_and_place(mapped, msg, profile, lines)
    _rendering(mapped, msg, profile, lines)
    codes = _diagnoses(mapped, msg, lines)
    _lines(mapped, msg, profile, codes, lines)
    return mapped, encounter_id[:50] or None
