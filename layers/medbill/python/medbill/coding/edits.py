"""The coding stage's edits: why a claim must wait for a coder before it can be charged.

Every reason names the diagnosis or line by number and quotes only codes (never PHI).
"""

from __future__ import annotations

from medbill.billing.fees import FeeSchedule
from medbill.coding import icd10
from medbill.coding.ncci import NcciEdits, ncci_edits
from medbill.coding.procedures import HcpcsLevel2, is_modifier, is_procedure_code, procedure_kind
from medbill.models.encounter import Encounter


def diagnosis_edits(diagnoses: list[str]) -> list[str]:
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
) -> list[str]:
    """Hold reasons for the coding stage; an empty list means the claim is clean.

    `fee_schedule` None means the clinic has none: every line is then unpriceable.
    `hcpcs_level2` and `ncci`, when given (user-supplied quarterly files), add HCPCS Level II existence
    and the NCCI PTP / MUE edits.
    """
    reasons = diagnosis_edits(encounter.diagnoses)
    clinic = encounter.clinic_id
    payer_id = encounter.coverage.payer_id
    if fee_schedule is None:
        reasons.append(f"clinic {clinic} has no fee schedule; procedure codes cannot be checked or priced")
    n_diagnoses = len(encounter.diagnoses)
    for n, line in enumerate(encounter.service_lines, start=1):
        code = line.procedure_code
        if not is_procedure_code(code):
            reasons.append(f"line {n}: {code} is not a CPT or HCPCS code")
            continue
        if hcpcs_level2 is not None and procedure_kind(code) == "hcpcs" and code not in hcpcs_level2:
            reasons.append(f"line {n}: {code} is not a current HCPCS Level II code")
        bad_mods = [m for m in line.modifiers if not is_modifier(m)]
        for m in bad_mods:
            reasons.append(f"line {n}: modifier {m} is not two letters or digits")
        if len(set(line.modifiers)) != len(line.modifiers):
            reasons.append(f"line {n}: a modifier is repeated")
        if fee_schedule is not None:
            if code not in fee_schedule:
                reasons.append(f"line {n}: {code} is not on clinic {clinic}'s fee schedule")
            elif line.charge is None and fee_schedule.price(code, line.modifiers, payer_id) is None:
                reasons.append(f"line {n}: {code} has no fee for payer {payer_id} on clinic {clinic}'s schedule")
        for p in line.diagnosis_pointers:
            if not 1 <= p <= n_diagnoses:
                reasons.append(f"line {n}: diagnosis pointer {p} but the claim has {n_diagnoses} diagnoses")
    if ncci is not None:
        reasons += ncci_edits(encounter, ncci)
    return reasons
