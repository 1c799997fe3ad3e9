"""Claim-level scrubber rules: code lists (POS, SBR09, states, NUCC taxonomy), the billing provider's
address and tax id, the service facility a facility place of service needs, anesthesia minutes.

Messages quote codes, never people: a patient's or subscriber's state is named by whose address it is,
a tax id never appears (an SSN is PII; an EIN that is really an SSN would be too).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from medbill.coding.codelists import CodeLists
from medbill.coding.findings import INFO, Finding, finding
from medbill.coding.procedures import is_anesthesia
from medbill.models.common import Address
from medbill.models.encounter import Encounter, plain_invalid_tin

X12 = "837P 005010X222A1"

# "P.O. Box 12", "PO BOX 12", "P O Box", "Post Office Box 12", "POB 12", "Lock Box 9", "PO Drawer 3";
# not "Boxwood Rd", "Polk St", "APO AE" or "12 Pob Lane".
PO_BOX = re.compile(
    r"\b(?:P\.?\s*O\.?\s*(?:BOX|DRAWER)|POST\s+OFFICE\s+(?:BOX|DRAWER)|POBOX|POB\s*#?\s*\d|LOCK\s*BOX)",
    re.IGNORECASE,
)
# EIN prefixes the IRS does not assign (IRS: "How EINs are assigned and valid EIN prefixes").
UNASSIGNED_EIN_PREFIXES = frozenset(
    {"00", "07", "08", "09", "17", "18", "19", "28", "29", "49", "69", "70", "78", "79", "89", "96", "97"}
)


def is_po_box(address: Address) -> bool:
    return any(PO_BOX.search(line) for line in (address.line1, address.line2 or ""))


def _addresses(enc: Encounter) -> Iterator[tuple[str, Address, bool]]:
    """(whose address, address, may its codes be quoted) for every address on the claim."""
    bp = enc.billing_provider
    yield "billing provider address (2010AA)", bp.address, True
    if bp.pay_to_address:
        yield "pay-to address (2010AB)", bp.pay_to_address, True
    if enc.service_facility:
        yield "service facility address (2310C)", enc.service_facility.address, True
    if enc.rendering_provider and enc.rendering_provider.address:
        yield "rendering provider address", enc.rendering_provider.address, True
    yield "patient address", enc.patient.address, False
    if enc.subscriber.person:
        yield "subscriber address", enc.subscriber.person.address, False
    for n, other in enumerate(enc.other_coverages, start=2):
        if other.subscriber.person:
            yield f"coverage {n} subscriber address (2330A)", other.subscriber.person.address, False


def code_list_findings(enc: Encounter, lists: CodeLists) -> list[Finding]:
    out: list[Finding] = []
    pos, pos_list = enc.place_of_service, lists.place_of_service
    if pos not in pos_list:
        out.append(finding("POS-CODE", f"place of service {pos} is not a CMS place-of-service code", pos_list.version))
    cfi, cfi_list = enc.coverage.claim_filing_indicator, lists.claim_filing_indicator
    if cfi not in cfi_list:
        message = f"claim filing indicator {cfi} is not a claim filing indicator code (SBR09), e.g. CI, MB, MC, BL"
        out.append(finding("SBR09-CODE", message, cfi_list.version))
    for n, other in enumerate(enc.other_coverages, start=2):  # 2320 SBR09 of the secondary / tertiary
        code = other.coverage.claim_filing_indicator
        if code not in cfi_list:
            message = f"coverage {n}: claim filing indicator {code} is not a claim filing indicator code (SBR09)"
            out.append(finding("SBR09-CODE", message, cfi_list.version))
    for whose, address, quote in _addresses(enc):
        if address.state not in lists.states:
            shown = f"state {address.state}" if quote else "the state"
            message = f"{whose}: {shown} is not a US state, territory or Canadian province code"
            out.append(finding("STATE-CODE", message, lists.states.version))
    providers = [("billing provider", enc.billing_provider.taxonomy)]
    if enc.rendering_provider:
        providers.append(("rendering provider", enc.rendering_provider.taxonomy))
    for who, taxonomy in providers:
        if taxonomy not in lists.taxonomy:
            message = f"{who} taxonomy {taxonomy} is not in the NUCC provider taxonomy"
            out.append(finding("TAXONOMY-CODE", message, lists.taxonomy.version))
    return out


def billing_provider_findings(enc: Encounter) -> list[Finding]:
    bp = enc.billing_provider
    out: list[Finding] = []
    if is_po_box(bp.address):
        message = (
            "billing provider address (2010AA) is a PO box or lock box; it must be the street address where the "
            "practice is; put the PO box in the billing provider's pay_to_address (2010AB)"
        )
        out.append(finding("BILLING-PO-BOX", message, X12))
    why = plain_invalid_tin(bp.tin, bp.tin_qualifier)
    if why:
        out.append(finding("TIN-INVALID", f"billing provider tax id is not valid: {why}", X12))
    elif bp.tin_qualifier == "EI" and bp.tin[:2] in UNASSIGNED_EIN_PREFIXES:
        message = (
            "billing provider tax id: its prefix is not one the IRS assigns to EINs; check the EIN, or set "
            "tin_qualifier SY if it is a sole proprietor's SSN"
        )
        out.append(finding("TIN-EIN-PREFIX", message, "IRS EIN prefixes"))
    if bp.tin_qualifier == "SY" and not bp.last_name:
        message = (
            "billing provider tax id is an SSN (SY) but the billing provider has no person's name; a sole "
            "proprietor billing under an SSN is named as a person (last_name, first_name)"
        )
        out.append(finding("TIN-SSN-PERSON", message, X12))
    return out


def service_facility_findings(enc: Encounter, lists: CodeLists) -> list[Finding]:
    pos, facility = enc.place_of_service, enc.service_facility
    if facility is None:
        if lists.needs_service_facility(pos):
            message = (
                f"place of service {pos} is a facility; the claim needs the service facility location (2310C): "
                "add service_facility with its name, street address and NPI"
            )
            return [finding("SERVICE-FACILITY", message, lists.place_of_service.version)]
        return []
    if is_po_box(facility.address):
        message = "service facility address (2310C) is a PO box; it must be the street address where care was given"
        return [finding("SERVICE-FACILITY-PO-BOX", message, X12)]
    return []


def anesthesia_findings(enc: Encounter) -> list[Finding]:
    out: list[Finding] = []
    for n, line in enumerate(enc.service_lines, start=1):
        if not is_anesthesia(line.procedure_code):
            continue
        code, minutes = line.procedure_code, line.units
        if minutes != minutes.to_integral_value():
            message = f"line {n}: {code} is anesthesia, billed in minutes (MJ); {minutes} is not a whole number"
            out.append(finding("ANESTHESIA-MINUTES", message, X12, line=n))
        else:
            message = f"line {n}: {code} is anesthesia: {minutes.normalize():f} minutes, sent as MJ (SV103)"
            out.append(finding("ANESTHESIA-MINUTES", message, X12, line=n, severity=INFO))
    return out
