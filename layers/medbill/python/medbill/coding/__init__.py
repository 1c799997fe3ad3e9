"""Code sets and coding edits: ICD-10-CM (CMS code set), CPT/HCPCS format, modifiers, pointers."""

from medbill.coding.edits import coding_edits, diagnosis_edits
from medbill.coding.icd10 import exists, is_billable
from medbill.coding.ncci import NcciEdits, ncci_edits
from medbill.coding.procedures import HcpcsLevel2, is_modifier, is_procedure_code

__all__ = [
    "HcpcsLevel2",
    "NcciEdits",
    "coding_edits",
    "diagnosis_edits",
    "exists",
    "is_billable",
    "is_modifier",
    "is_procedure_code",
    "ncci_edits",
]
