"""The coding stage's hold reasons in today's call shape: `coding_edits(encounter, fee_schedule)`.

It runs the scrubber (medbill.coding.scrubber) and returns its hold messages. Diagnosis reasons keep
today's wording, which quotes the code ("diagnosis 1: E11 is a category ..."), because today's callers
and their tests read it; `scrub()` names diagnoses by position only. Switching the coding stage to
`scrub()` (docs/scrubber.md) drops the codes from hold reasons and records the data versions.
"""

from __future__ import annotations

from medbill.billing.fees import FeeSchedule
from medbill.coding import icd10
from medbill.coding.ncci import NcciEdits
from medbill.coding.procedures import HcpcsLevel2
from medbill.coding.references import CodingReferences, default_references
from medbill.coding.scrubber import scrub
from medbill.models.encounter import Encounter


def diagnosis_edits(diagnoses: list[str]) -> list[str]:
    """Today's diagnosis reasons (they quote the code: keep them off execution output and logs)."""
    reasons = []
    for n, code in enumerate(diagnoses, start=1):
        shown = icd10.dotted(code)
        if not icd10.exists(code):
            reasons.append(f"diagnosis {n}: {shown} is not an ICD-10-CM code")
        elif not icd10.is_billable(code):
            kind = "a category" if icd10.is_category(code) else "a subcategory"
            reasons.append(f"diagnosis {n}: {shown} is {kind}, not a billable code; use a more specific code")
    if diagnoses and icd10.exists(diagnoses[0]) and icd10.is_manifestation(diagnoses[0]):
        reasons.append(
            f"diagnosis 1: {icd10.dotted(diagnoses[0])} is a manifestation code and cannot be the principal "
            "diagnosis; list the underlying condition first"
        )
    return reasons


def coding_edits(
    encounter: Encounter,
    fee_schedule: FeeSchedule | None,
    hcpcs_level2: HcpcsLevel2 | None = None,
    ncci: NcciEdits | None = None,
    references: CodingReferences | None = None,
) -> list[str]:
    """Hold reasons for the coding stage; an empty list means the claim is clean.

    `fee_schedule` None means the clinic has none: every line is then unpriceable. `references` None =
    `default_references()`: the packaged code lists plus the quarterly files in MEDBILL_REFERENCE_DATA.
    `hcpcs_level2` and `ncci`, when given, replace the quarterly files of `references`.
    """
    refs = (references if references is not None else default_references()).with_quarterly(ncci, hcpcs_level2)
    result = scrub(encounter, refs, fee_schedule)
    others = [f.message for f in result.holds if not f.rule_id.startswith("DX-") or f.rule_id == "DX-POINTER"]
    return diagnosis_edits(encounter.diagnoses) + others
