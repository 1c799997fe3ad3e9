"""Code systems as HL7 v2 senders name them (CE / CWE component 3, DG1-2), and HL7 value tables."""

from __future__ import annotations

import re

from medbill.models.encounter import ICD10_SHAPE, PROCEDURE_CODE, normalize_icd10

ICD10 = frozenset(
    {"I10", "I10C", "ICD10", "ICD10CM", "I10CM", "2.16.840.1.113883.6.90", "HTTP://HL7.ORG/FHIR/SID/ICD-10-CM"}
)
ICD9 = frozenset({"I9", "I9C", "ICD9", "ICD9CM", "I9CM", "2.16.840.1.113883.6.103", "2.16.840.1.113883.6.2"})
SNOMED = frozenset({"SCT", "SNM", "SNM3", "SNOMED", "SNOMEDCT", "SCTUS", "2.16.840.1.113883.6.96"})
CPT = frozenset({"C4", "C5", "CPT", "CPT4", "HCPCS", "HCPT", "HC", "HCPCSL2", "2.16.840.1.113883.6.12"})
# ICD-9-CM shapes: 3 digits (.1-2), V + 2 digits, E + 3 digits.
_ICD9_SHAPE = re.compile(r"^(\d{3}(\.?\d{1,2})?|V\d{2}(\.?\d{1,2})?|E\d{3}(\.?\d)?)$")

# HL7 table 0063 (relationship) -> encounter subscriber relationship.
RELATIONSHIP = {
    "SEL": "self",
    "SELF": "self",
    "18": "self",
    "SPO": "spouse",
    "01": "spouse",
    "CHD": "child",
    "19": "child",
}
# HL7 table 0001 (administrative sex) -> M / F / U.
SEX = {"M": "M", "F": "F", "U": "U", "O": "U", "A": "U", "N": "U", "X": "U"}
# HL7 table 0004 (patient class) -> CMS place of service, where the class decides it.
PATIENT_CLASS_POS = {"I": "21", "E": "23"}


def system_key(system: str) -> str:
    return re.sub(r"[\s_-]", "", system).upper()


def classify_diagnosis(triplets: list[tuple[str, str]], method: str = "") -> tuple[str, str | None]:
    """(kind, code) for one coded element given as (code, system) triplets, primary first.

    kind is "icd10" (code set), "icd9", "snomed", "other" or "empty". An ICD-10-CM alternate (CWE.4-6)
    wins over a SNOMED primary. A code with no system is judged by its shape (DG1-2 may name it).
    """
    kinds: list[str] = []
    for n, (code, system) in enumerate(triplets):
        if not code:
            continue
        key = system_key(system or (method if n == 0 else ""))
        if key in ICD10:
            return "icd10", code
        if key in ICD9:
            kinds.append("icd9")
        elif key in SNOMED:
            kinds.append("snomed")
        elif not key and ICD10_SHAPE.fullmatch(normalize_icd10(code)):
            return "icd10", code
        elif not key and _ICD9_SHAPE.fullmatch(code):
            kinds.append("icd9")
        else:
            kinds.append("other")
    if not kinds:
        return "empty", None
    for kind in ("icd9", "snomed"):
        if kind in kinds:
            return kind, None
    return "other", None


DIAGNOSIS_PROBLEM = {
    "icd9": "is an ICD-9 code: claims need ICD-10-CM (send the ICD-10-CM code, system I10)",
    "snomed": "is SNOMED CT only: claims need ICD-10-CM (send it as the code or as the CWE alternate, system I10)",
    "other": "is not an ICD-10-CM code (the coding system is not I10)",
}


def is_procedure(code: str, system: str) -> bool:
    key = system_key(system)
    return (not key or key in CPT) and PROCEDURE_CODE.fullmatch(code.strip().upper()) is not None
