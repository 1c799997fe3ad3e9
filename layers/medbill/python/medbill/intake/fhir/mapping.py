"""FHIR R4 resources -> an encounter record (JSON shape) with the FHIRPath of every field.

Two shapes of a visit: a Claim (patient, insurance -> Coverage, diagnosis, item, careTeam), or an
Encounter with the ChargeItems whose context is that Encounter (Patient, Coverage of the patient,
Encounter.diagnosis -> Condition, ChargeItem.code / quantity / priceOverride / reason). What neither
carries comes from the clinic's profile. docs/ehr-intake.md has the mapping table.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from medbill.intake.fhir.index import BundleIndex, Found, identifiers, npi_of
from medbill.intake.mapped import Mapped, billing_provider_of
from medbill.models.clinic_profile import ClinicProfile
from medbill.models.encounter import PROCEDURE_CODE, normalize_icd10

ICD10 = {"http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10", "urn:oid:2.16.840.1.113883.6.90"}
ICD9 = {"http://hl7.org/fhir/sid/icd-9-cm", "urn:oid:2.16.840.1.113883.6.103", "urn:oid:2.16.840.1.113883.6.2"}
SNOMED = {"http://snomed.info/sct", "urn:oid:2.16.840.1.113883.6.96"}
PROCEDURE = {
    "http://www.ama-assn.org/go/cpt",
    "urn:oid:2.16.840.1.113883.6.12",
    "https://www.cms.gov/medicare/coding/hcpcsreleasecodesets",
    "http://www.cms.gov/medicare/coding/hcpcsreleasecodesets",
    "urn:oid:2.16.840.1.113883.6.285",
}
TAXONOMY = "http://nucc.org/provider-taxonomy"
GENDER = {"male": "M", "female": "F", "other": "U", "unknown": "U"}
RELATIONSHIP = {"self": "self", "spouse": "spouse", "child": "child"}
# RelatedPerson.relationship (v3 RoleCode) -> the encounter's relationship of the guarantor to the patient.
GUARANTOR_RELATIONSHIP = {"SPS": "spouse", "HUSB": "spouse", "WIFE": "spouse", "CHILD": "child", "ONESELF": "self"}
CLASS_POS = {"IMP": "21", "ACUTE": "21", "NONAC": "21", "EMER": "23"}
DX_PROBLEM = {
    "icd9": "is an ICD-9 code: claims need ICD-10-CM (system http://hl7.org/fhir/sid/icd-10-cm)",
    "snomed": "is SNOMED CT only: claims need ICD-10-CM (add a coding with system http://hl7.org/fhir/sid/icd-10-cm)",
    "other": "has no ICD-10-CM coding (system http://hl7.org/fhir/sid/icd-10-cm)",
}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def codings(concept: Any) -> list[tuple[int, str, str]]:
    return [
        (k, str(c.get("system") or ""), str(c.get("code") or "").strip())
        for k, c in enumerate(as_list(as_dict(concept).get("coding")))
        if isinstance(c, dict)
    ]


def diagnosis_code(concept: Any) -> tuple[str, str | None, int]:
    """(kind, ICD-10-CM code, coding index) of a CodeableConcept; kind as in hl7v2.codes."""
    kinds = []
    for k, system, code in codings(concept):
        if system.lower() in ICD10 and code:
            return "icd10", code, k
        kinds.append("icd9" if system.lower() in ICD9 else "snomed" if system.lower() in SNOMED else "other")
    for kind in ("icd9", "snomed", "other"):
        if kind in kinds:
            return kind, None, 0
    return "empty", None, 0


def as_date(value: Any) -> str | None:
    return value[:10] if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}", value) else None


def put_person(mapped: Mapped, base: str, person: Found) -> None:
    res, p = person.resource, person.path
    names = as_list(res.get("name"))
    k = next((i for i, n in enumerate(names) if as_dict(n).get("use") == "official"), 0)
    name = as_dict(names[k]) if names else {}
    given = as_list(name.get("given"))
    mapped.where[f"{base}"] = p
    mapped.put(f"{base}.last_name", name.get("family"), f"{p}.name[{k}].family")
    mapped.put(f"{base}.first_name", given[0] if given else None, f"{p}.name[{k}].given[0]")
    mapped.put(f"{base}.middle_name", given[1] if len(given) > 1 else None, f"{p}.name[{k}].given[1]")
    mapped.put(f"{base}.date_of_birth", res.get("birthDate"), f"{p}.birthDate")
    gender = res.get("gender")
    mapped.put(f"{base}.sex", GENDER.get(gender, gender) if isinstance(gender, str) else None, f"{p}.gender")
    addresses = as_list(res.get("address"))
    a = next((i for i, x in enumerate(addresses) if as_dict(x).get("use") == "home"), 0)
    address = as_dict(addresses[a]) if addresses else {}
    lines = as_list(address.get("line"))
    ap = f"{p}.address[{a}]"
    mapped.where[f"{base}.address"] = ap
    mapped.put(f"{base}.address.line1", lines[0] if lines else None, f"{ap}.line[0]")
    mapped.put(f"{base}.address.line2", lines[1] if len(lines) > 1 else None, f"{ap}.line[1]")
    mapped.put(f"{base}.address.city", address.get("city"), f"{ap}.city")
    mapped.put(f"{base}.address.state", address.get("state"), f"{ap}.state")
    postal = address.get("postalCode")
    mapped.put(
        f"{base}.address.postal_code",
        re.sub(r"[\s-]", "", postal) if isinstance(postal, str) else None,
        f"{ap}.postalCode",
    )


def put_coverage(
    mapped: Mapped,
    index: BundleIndex,
    coverage: Found | None,
    profile: ClinicProfile,
    where: str,
    cov: str = "coverage",
    sub: str = "subscriber",
) -> None:
    """One Coverage into `cov` / `sub` (the primary's paths by default; other_coverages.<n>.* for the next)."""
    mapped.where[cov] = where
    if coverage is None:
        mapped.problem(cov, where, "is required: a Coverage for the patient in the Bundle")
        return
    res, c = coverage.resource, coverage.path
    payors = as_list(res.get("payor"))
    payor_ref = payors[0] if payors else None
    payor = index.resolve(payor_ref, coverage)
    ids = identifiers(payor.resource if payor else None, payor_ref)
    route = next((r for r in (profile.payer_route(i) for i in ids) if r), None)
    if route is not None:
        via = f"{c}.payor[0] (via the clinic profile)"
        mapped.put(f"{cov}.payer_id", route.payer_id, via)
        mapped.put(f"{cov}.payer_name", route.payer_name, via)
        mapped.put(f"{cov}.claim_filing_indicator", route.claim_filing_indicator, via)
    else:
        mapped.put(f"{cov}.payer_id", ids[0] if ids else None, f"{c}.payor[0].identifier")
        name = (payor.resource.get("name") if payor else None) or as_dict(payor_ref).get("display")
        mapped.put(f"{cov}.payer_name", name, f"{c}.payor[0].display")
    member, member_at = res.get("subscriberId"), f"{c}.subscriberId"
    if not member:
        found = next(((k, i) for k, i in enumerate(as_list(res.get("identifier"))) if as_dict(i).get("value")), None)
        member, member_at = (found[1]["value"], f"{c}.identifier[{found[0]}].value") if found else (None, member_at)
    mapped.put(f"{cov}.member_id", member, member_at)
    for k, cls in enumerate(as_list(res.get("class"))):
        if any(code == "group" for _, _, code in codings(as_dict(cls).get("type"))):
            mapped.put(f"{cov}.group_number", as_dict(cls).get("value"), f"{c}.class[{k}].value")
    codes = [code for _, _, code in codings(res.get("relationship"))]
    relationship = RELATIONSHIP.get(codes[0], "other") if codes else "self"
    mapped.where[sub] = f"{c}.relationship"
    mapped.put(f"{sub}.relationship", relationship, f"{c}.relationship")
    if relationship != "self":
        subscriber = index.resolve(res.get("subscriber"), coverage)
        if subscriber is None:
            mapped.problem(f"{sub}.person", f"{c}.subscriber", "is required when the patient is not the subscriber")
        else:
            put_person(mapped, f"{sub}.person", subscriber)


def put_coverages(
    mapped: Mapped, index: BundleIndex, ordered: list[tuple[Found | None, str]], profile: ClinicProfile
) -> None:
    """Coverages in coordination-of-benefits order: the first is the primary, the next two the secondary
    and tertiary (837P 2320, billed on by `bill_secondary`); a fourth is refused, naming it."""
    if not ordered:
        return
    put_coverage(mapped, index, ordered[0][0], profile, ordered[0][1])
    if len(ordered) > 3:
        mapped.problem(
            "other_coverages", ordered[3][1], "holds a fourth coverage: at most primary, secondary, tertiary"
        )
        return
    for n, (found, where) in enumerate(ordered[1:], start=1):
        mapped.where[f"other_coverages.{n}"] = where
        put_coverage(
            mapped, index, found, profile, where, f"other_coverages.{n}.coverage", f"other_coverages.{n}.subscriber"
        )


def put_guarantor(mapped: Mapped, index: BundleIndex, patient: Found) -> None:
    """Account.guarantor (the Account whose subject is the patient; the first guarantor in force): a
    RelatedPerson or Patient with a name and an address is who the statement is addressed to. A party
    without an address cannot be mailed: the statement rules then pick the subscriber or the patient."""
    for account in index.of_type("Account"):
        subjects = as_list(account.resource.get("subject"))
        if not any(index.refers_to(s, patient, account) for s in subjects):
            continue
        for k, g in enumerate(as_list(account.resource.get("guarantor"))):
            g = as_dict(g)
            if g.get("onHold"):
                continue
            party = index.resolve(g.get("party"), account)
            if party is None or party.resource.get("resourceType") not in ("RelatedPerson", "Patient"):
                continue
            if not as_list(party.resource.get("address")):
                continue
            _put_guarantor_party(mapped, party, f"{account.path}.guarantor[{k}].party")
            return


def _put_guarantor_party(mapped: Mapped, party: Found, where: str) -> None:
    res, p = party.resource, party.path
    mapped.where["guarantor"] = where
    codes = [code for _, _, code in codings((as_list(res.get("relationship")) or [None])[0])]
    is_patient = res.get("resourceType") == "Patient"
    relationship = (
        "self"
        if is_patient
        else next((GUARANTOR_RELATIONSHIP[c] for c in codes if c in GUARANTOR_RELATIONSHIP), "other")
    )
    mapped.put("guarantor.relationship", relationship, f"{p}.relationship")
    names = as_list(res.get("name"))
    name = as_dict(names[0]) if names else {}
    given = as_list(name.get("given"))
    mapped.put("guarantor.last_name", name.get("family"), f"{p}.name[0].family")
    mapped.put("guarantor.first_name", given[0] if given else None, f"{p}.name[0].given[0]")
    mapped.put("guarantor.middle_name", given[1] if len(given) > 1 else None, f"{p}.name[0].given[1]")
    address = as_dict(as_list(res.get("address"))[0])
    lines = as_list(address.get("line"))
    ap = f"{p}.address[0]"
    mapped.where["guarantor.address"] = ap
    mapped.put("guarantor.address.line1", lines[0] if lines else None, f"{ap}.line[0]")
    mapped.put("guarantor.address.line2", lines[1] if len(lines) > 1 else None, f"{ap}.line[1]")
    mapped.put("guarantor.address.city", address.get("city"), f"{ap}.city")
    mapped.put("guarantor.address.state", address.get("state"), f"{ap}.state")
    postal = address.get("postalCode")
    mapped.put(
        "guarantor.address.postal_code",
        re.sub(r"[\s-]", "", postal) if isinstance(postal, str) else None,
        f"{ap}.postalCode",
    )


def put_diagnosis(mapped: Mapped, codes: list[str], concept: Any, where: str) -> None:
    kind, code, k = diagnosis_code(concept)
    if kind == "empty":
        return
    if kind != "icd10" or code is None:
        mapped.problem("diagnoses", where, DX_PROBLEM[kind])
        return
    if normalize_icd10(code) not in {normalize_icd10(c) for c in codes}:
        codes.append(code)
        mapped.put(f"diagnoses.{len(codes)}", code, f"{where}.coding[{k}].code")


def position(codes: list[str], code: str | None) -> int | None:
    """1-based position of `code` among the diagnoses, either spelling."""
    keys = [normalize_icd10(c) for c in codes]
    return keys.index(normalize_icd10(code)) + 1 if code and normalize_icd10(code) in keys else None


def put_procedure(mapped: Mapped, n: int, concept: Any, where: str) -> None:
    path = f"service_lines.{n}.procedure_code"
    found = codings(concept)
    for k, system, code in found:
        if system.lower() in PROCEDURE and code:
            mapped.put(path, code, f"{where}.coding[{k}].code")
            return
    if not found:
        mapped.problem(path, where, "is required: the CPT / HCPCS code of the line")
    elif any(s.lower() in SNOMED for _, s, _ in found):
        mapped.problem(
            path, where, "is SNOMED CT only: claims need CPT or HCPCS (system http://www.ama-assn.org/go/cpt)"
        )
    elif shaped := [(k, c) for k, s, c in found if not s and PROCEDURE_CODE.fullmatch(c.upper())]:
        k, code = shaped[0]
        mapped.put(path, code, f"{where}.coding[{k}].code")  # no system but CPT-shaped
    else:
        mapped.problem(path, where, "has no CPT / HCPCS coding (system http://www.ama-assn.org/go/cpt)")


def money(mapped: Mapped, path: str, value: Any, where: str) -> Decimal | None:
    """A Money's value in USD (None when absent)."""
    m = as_dict(value)
    if m.get("value") is None:
        return None
    if m.get("currency") not in (None, "USD"):
        mapped.problem(path, f"{where}.currency", "is not USD")
        return None
    try:
        amount = Decimal(str(m["value"]))
    except InvalidOperation:
        mapped.problem(path, f"{where}.value", "is not an amount")
        return None
    return amount if amount.is_finite() else None


def put_rendering(mapped: Mapped, practitioner: Found | None, qualification: Any, profile: ClinicProfile) -> None:
    npi = npi_of(practitioner.resource if practitioner else None)
    if practitioner is None or npi is None or npi[1] == profile.billing_provider.npi:
        return
    p = practitioner.path
    mapped.where["rendering_provider"] = p
    mapped.put("rendering_provider.npi", npi[1], f"{p}.identifier[{npi[0]}].value")
    names = as_list(practitioner.resource.get("name"))
    name = as_dict(names[0]) if names else {}
    given = as_list(name.get("given"))
    mapped.put("rendering_provider.last_name", name.get("family"), f"{p}.name[0].family")
    mapped.put("rendering_provider.first_name", given[0] if given else None, f"{p}.name[0].given[0]")
    taxonomy = next((c for _, s, c in codings(qualification) if s == TAXONOMY and c), None)
    taxonomy = taxonomy or profile.rendering_taxonomy(npi[1])
    if taxonomy is None:
        mapped.problem(
            "rendering_provider.taxonomy",
            f"{p}.identifier[{npi[0]}]",
            "names a provider the clinic profile does not list",
        )
    mapped.put("rendering_provider.taxonomy", taxonomy, f"{p}.identifier[{npi[0]}]")


def check_clinic(
    mapped: Mapped, organization: Found | None, reference: Any, where: str, profile: ClinicProfile
) -> None:
    """A message naming another clinic (an identifier, none of them the profile's) is refused."""
    ids = identifiers(organization.resource if organization else None, reference)
    if ids and not profile.names_this_clinic(ids):
        mapped.problem("clinic_id", where, f"names a provider organization that is not clinic {profile.clinic_id}")


def put_place(mapped: Mapped, pos: str | None, where: str, profile: ClinicProfile) -> None:
    if pos:
        mapped.put("place_of_service", pos, where)
    else:
        mapped.put("place_of_service", profile.default_place_of_service, "clinic profile default_place_of_service")


def start(profile: ClinicProfile) -> Mapped:
    mapped = Mapped()
    mapped.put("clinic_id", profile.clinic_id, "clinic profile")
    mapped.where["billing_provider"] = "clinic profile billing_provider"
    mapped.raw["billing_provider"] = billing_provider_of(profile)
    return mapped


def business_id(mapped: Mapped, res: dict[str, Any], where: str) -> str | None:
    idents = enumerate(as_list(res.get("identifier")))
    found = next(((k, i["value"]) for k, i in idents if as_dict(i).get("value")), None)
    if found is None:
        mapped.problem(
            "encounter_id", f"{where}.identifier", "is required: the visit's business identifier (the same on a resend)"
        )
        return None
    mapped.put("encounter_id", found[1], f"{where}.identifier[{found[0]}].value")
    return str(found[1])[:50]
