"""The claim scrubber: every coding-stage rule on one encounter, as findings that name their rule and
the version of the reference data behind it (docs/scrubber.md lists the rules).

    result = scrub(encounter, references, fee_schedule)
    result.reasons    -> hold reasons for the claim (empty = clean)
    result.findings   -> every finding, holds and infos: rule_id, severity, message, data_version, line
    result.versions   -> the reference data in force, to record on the claim's coding record

Intake rejects only what is malformed (the encounter model); everything a person can fix on the claim
is a hold here.
"""

from __future__ import annotations

from medbill.billing.fees import FeeSchedule
from medbill.coding.cms_files import quarter
from medbill.coding.findings import INFO, Finding, ScrubResult, finding
from medbill.coding.ncci_rules import mue_findings, ptp_findings
from medbill.coding.references import NOT_LOADED, QUARTERLY_KINDS, CodingReferences, default_references
from medbill.coding.rules_claim import (
    anesthesia_findings,
    billing_provider_findings,
    code_list_findings,
    service_facility_findings,
)
from medbill.coding.rules_lines import diagnosis_findings, hcpcs_findings, procedure_findings
from medbill.models.encounter import Encounter

_LABELS = {"ncci_ptp": "NCCI PTP", "ncci_mue": "NCCI MUE", "hcpcs": "HCPCS Level II"}


def scrub(
    encounter: Encounter, references: CodingReferences | None = None, fee_schedule: FeeSchedule | None = None
) -> ScrubResult:
    """All findings for `encounter`. `references` None = `default_references()` (MEDBILL_REFERENCE_DATA);
    `fee_schedule` None = the clinic has none (a hold: its lines cannot be priced)."""
    refs = references if references is not None else default_references()
    lists = refs.code_lists
    findings: list[Finding] = [
        *diagnosis_findings(encounter),
        *code_list_findings(encounter, lists),
        *billing_provider_findings(encounter),
        *service_facility_findings(encounter, lists),
        *procedure_findings(encounter, fee_schedule),
        *anesthesia_findings(encounter),
        *hcpcs_findings(encounter, refs.hcpcs),
    ]
    if refs.ncci is not None:
        findings += ptp_findings(encounter, refs.ncci) + mue_findings(encounter, refs.ncci)
    versions = refs.versions()
    findings += _reference_data_findings(encounter, versions)
    return ScrubResult(tuple(findings), versions)


def _reference_data_findings(encounter: Encounter, versions: dict[str, str]) -> list[Finding]:
    """Infos: a quarterly file that is not loaded, or older than the date of service's quarter."""
    out: list[Finding] = []
    dos_quarter = quarter(encounter.date_of_service)
    for kind in ("ncci_ptp", "ncci_mue"):
        if versions[kind] == NOT_LOADED:
            message = f"no {_LABELS[kind]} file is loaded; the claim was not checked against it"
            out.append(finding("REFDATA-MISSING", message, None, severity=INFO))
    for kind in QUARTERLY_KINDS:
        tail = versions[kind].rsplit(" ", 1)[-1]
        if len(tail) == 6 and tail[4] == "Q" and tail < dos_quarter:
            message = f"the date of service is in a later quarter than the {_LABELS[kind]} file; load the current one"
            out.append(finding("REFDATA-STALE", message, versions[kind], severity=INFO))
    return out
