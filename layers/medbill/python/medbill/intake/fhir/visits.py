"""The two shapes of a billable visit in a Bundle: a Claim, or an Encounter with its ChargeItems."""

from __future__ import annotations

import re
from typing import Any

from medbill.intake.fhir import mapping as m
from medbill.intake.fhir.index import BundleIndex, Found
from medbill.intake.mapped import Mapped
from medbill.models.clinic_profile import ClinicProfile

_POS = re.compile(r"^\d{2}$")


def _patient(mapped: Mapped, index: BundleIndex, holder: Found, field: str) -> Found | None:
    patient = index.resolve(holder.resource.get(field), holder)
    mapped.where["patient"] = f"{holder.path}.{field}"
    if patient is None:
        mapped.problem("patient", f"{holder.path}.{field}", "is required: a reference to a Patient in the Bundle")
        return None
    m.put_person(mapped, "patient", patient)
    return patient


def _claim_dates(mapped: Mapped, claim: Found, items: list[Any]) -> None:
    dated = []
    for k, item in enumerate(items):
        item = m.as_dict(item)
        value = item.get("servicedDate") or m.as_dict(item.get("servicedPeriod")).get("start")
        if value:
            dated.append((m.as_date(value), f"{claim.path}.item[{k}].serviced"))
    if not dated:
        start = m.as_dict(claim.resource.get("billablePeriod")).get("start")
        dated = [(m.as_date(start), f"{claim.path}.billablePeriod.start")] if start else []
    if not dated:
        mapped.problem("date_of_service", f"{claim.path}.item[0].serviced", "is required: the date of service")
    elif any(d != dated[0][0] for d, _ in dated):
        where = next(w for d, w in dated if d != dated[0][0])
        mapped.problem("date_of_service", where, "differs between items: send one Claim per date")
    else:
        mapped.put("date_of_service", dated[0][0], dated[0][1])


def _coverage_order(coverage: Found) -> int:
    """Coverage.order (1 pays first); without one, after those that have it (the sort keeps Bundle order)."""
    order = coverage.resource.get("order")
    return order if isinstance(order, int) else 99


def map_claim(index: BundleIndex, claim: Found, profile: ClinicProfile) -> tuple[Mapped, str | None]:
    mapped, res, c = m.start(profile), claim.resource, claim.path
    mapped.where[""] = c
    m.check_clinic(mapped, index.resolve(res.get("provider"), claim), res.get("provider"), f"{c}.provider", profile)
    encounter_id = m.business_id(mapped, res, c)
    patient = _patient(mapped, index, claim, "patient")
    insurance = m.as_list(res.get("insurance"))
    k = next((i for i, x in enumerate(insurance) if m.as_dict(x).get("focal")), 0)
    # The focal insurance is billed first; the others follow in Claim.insurance.sequence order.
    rest = sorted(
        (i for i in range(len(insurance)) if i != k), key=lambda i: m.as_dict(insurance[i]).get("sequence") or 99
    )
    ordered = []
    for i in ([k] if insurance else []) + rest:
        ref = m.as_dict(insurance[i]).get("coverage")
        ordered.append((index.resolve(ref, claim), f"{c}.insurance[{i}].coverage"))
    if not ordered:
        m.put_coverage(mapped, index, None, profile, f"{c}.insurance[0].coverage")
    m.put_coverages(mapped, index, ordered, profile)
    if patient is not None:
        m.put_guarantor(mapped, index, patient)
    items = m.as_list(res.get("item"))
    _claim_dates(mapped, claim, items)
    pos, where = None, ""
    for j, system, code in m.codings(m.as_dict(items[0] if items else None).get("locationCodeableConcept")):
        if _POS.fullmatch(code) and "place" in system.lower():
            pos, where = code, f"{c}.item[0].locationCodeableConcept.coding[{j}].code"
    m.put_place(mapped, pos, where, profile)
    codes: list[str] = []
    sequence_at: dict[Any, int] = {}
    mapped.where["diagnoses"] = f"{c}.diagnosis"
    diagnoses = sorted(enumerate(m.as_list(res.get("diagnosis"))), key=lambda x: m.as_dict(x[1]).get("sequence") or 0)
    for k, dx in diagnoses:
        dx = m.as_dict(dx)
        concept, where = dx.get("diagnosisCodeableConcept"), f"{c}.diagnosis[{k}].diagnosisCodeableConcept"
        if concept is None and (cond := index.resolve(dx.get("diagnosisReference"), claim)) is not None:
            concept, where = cond.resource.get("code"), f"{cond.path}.code"
        before = len(codes)
        m.put_diagnosis(mapped, codes, concept, where)
        if len(codes) > before:
            sequence_at[dx.get("sequence")] = len(codes)
    if not res.get("diagnosis"):
        mapped.problem("diagnoses", f"{c}.diagnosis", "is required: at least one ICD-10-CM diagnosis")
    mapped.where["service_lines"] = f"{c}.item"
    for n, item in enumerate(items, start=1):
        item, at = m.as_dict(item), f"{c}.item[{n - 1}]"
        mapped.where[f"service_lines.{n}"] = at
        m.put_procedure(mapped, n, item.get("productOrService"), f"{at}.productOrService")
        for j, mod in enumerate(m.as_list(item.get("modifier"))):
            modifier = next((cd for _, _, cd in m.codings(mod) if cd), None)
            mapped.put(f"service_lines.{n}.modifiers.{j + 1}", modifier, f"{at}.modifier[{j}]")
        mapped.put(f"service_lines.{n}.units", m.as_dict(item.get("quantity")).get("value"), f"{at}.quantity.value")
        charge = m.money(mapped, f"service_lines.{n}.charge", item.get("net"), f"{at}.net")
        mapped.put(f"service_lines.{n}.charge", str(charge) if charge else None, f"{at}.net.value")
        pointers = [sequence_at[s] for s in m.as_list(item.get("diagnosisSequence")) if s in sequence_at]
        mapped.put(f"service_lines.{n}.diagnosis_pointers", pointers or [1], f"{at}.diagnosisSequence")
    if not items:
        mapped.problem("service_lines", f"{c}.item", "is required: at least one item")
    team = sorted(m.as_list(res.get("careTeam")), key=lambda t: m.as_dict(t).get("sequence") or 0)
    primary = next((t for t in team if any(cd == "primary" for _, _, cd in m.codings(m.as_dict(t).get("role")))), None)
    member = m.as_dict(primary or (team[0] if team else None))
    m.put_rendering(mapped, index.resolve(member.get("provider"), claim), member.get("qualification"), profile)
    return mapped, encounter_id


def map_encounter(
    index: BundleIndex, encounter: Found, charges: list[Found], profile: ClinicProfile
) -> tuple[Mapped, str | None]:
    mapped, res, e = m.start(profile), encounter.resource, encounter.path
    mapped.where[""] = e
    org = index.resolve(res.get("serviceProvider"), encounter)
    m.check_clinic(mapped, org, res.get("serviceProvider"), f"{e}.serviceProvider", profile)
    encounter_id = m.business_id(mapped, res, e)
    patient = _patient(mapped, index, encounter, "subject")
    coverages = [
        c for c in index.of_type("Coverage") if patient and index.refers_to(c.resource.get("beneficiary"), patient, c)
    ]
    if not coverages:
        m.put_coverage(mapped, index, None, profile, f"{e}.subject")
    # Coverage.order says which pays first (1 primary, 2 secondary, ...); without it, Bundle order.
    coverages.sort(key=_coverage_order)
    m.put_coverages(mapped, index, [(c, c.path) for c in coverages], profile)
    if patient is not None:
        m.put_guarantor(mapped, index, patient)
    start = m.as_date(m.as_dict(res.get("period")).get("start"))
    dated = [(m.as_date(ch.resource.get("occurrenceDateTime")), ch) for ch in charges]
    if start:
        mapped.put("date_of_service", start, f"{e}.period.start")
    elif dated and dated[0][0]:
        mapped.put("date_of_service", dated[0][0], f"{dated[0][1].path}.occurrenceDateTime")
    else:
        mapped.problem("date_of_service", f"{e}.period.start", "is required: the date of service")
    cls = m.as_dict(res.get("class")).get("code")
    m.put_place(mapped, m.CLASS_POS.get(cls) if isinstance(cls, str) else None, f"{e}.class.code", profile)
    codes: list[str] = []
    mapped.where["diagnoses"] = f"{e}.diagnosis"
    ranked = sorted(enumerate(m.as_list(res.get("diagnosis"))), key=lambda x: m.as_dict(x[1]).get("rank") or 99)
    for _, dx in ranked:
        cond = index.resolve(m.as_dict(dx).get("condition"), encounter)
        if cond is not None:
            m.put_diagnosis(mapped, codes, cond.resource.get("code"), f"{cond.path}.code")
    mapped.where["service_lines"] = f"{e} (ChargeItem.context)"
    for n, charge in enumerate(charges, start=1):
        ch, at = charge.resource, charge.path
        reasons: list[int] = []
        for k, reason in enumerate(m.as_list(ch.get("reason"))):
            m.put_diagnosis(mapped, codes, reason, f"{at}.reason[{k}]")
            position = m.position(codes, m.diagnosis_code(reason)[1])
            if position and position not in reasons:
                reasons.append(position)
        mapped.where[f"service_lines.{n}"] = at
        m.put_procedure(mapped, n, ch.get("code"), f"{at}.code")
        mapped.put(f"service_lines.{n}.units", m.as_dict(ch.get("quantity")).get("value"), f"{at}.quantity.value")
        amount = m.money(mapped, f"service_lines.{n}.charge", ch.get("priceOverride"), f"{at}.priceOverride")
        mapped.put(f"service_lines.{n}.charge", str(amount) if amount else None, f"{at}.priceOverride.value")
        mapped.put(f"service_lines.{n}.diagnosis_pointers", reasons[:4] or [1], f"{at}.reason")
    if not codes and not any(p[0] == "diagnoses" for p in mapped.problems):
        mapped.problem("diagnoses", f"{e}.diagnosis", "is required: at least one ICD-10-CM diagnosis")
    performer = m.as_dict((m.as_list(charges[0].resource.get("performer")) or [None])[0]) if charges else {}
    actor = index.resolve(performer.get("actor"), charges[0]) if charges else None
    if actor is None:
        for part in m.as_list(res.get("participant")):
            if any(cd in ("PPRF", "ATND") for t in m.as_list(m.as_dict(part).get("type")) for _, _, cd in m.codings(t)):
                actor = index.resolve(m.as_dict(part).get("individual"), encounter)
                break
    m.put_rendering(mapped, actor, None, profile)
    return mapped, encounter_id
