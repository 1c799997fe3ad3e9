"""Code sets and coding edits: ICD-10-CM (CMS code set), CPT/HCPCS format, modifiers, pointers, the
packaged code lists, the quarterly NCCI / HCPCS files, and the scrubber that applies them all."""

from medbill.coding.codelists import CodeList, CodeLists
from medbill.coding.edits import coding_edits, diagnosis_edits
from medbill.coding.findings import Finding, ScrubResult
from medbill.coding.icd10 import exists, is_billable
from medbill.coding.ncci import NcciEdits
from medbill.coding.ncci_rules import ncci_edits
from medbill.coding.procedures import HcpcsLevel2, is_modifier, is_procedure_code
from medbill.coding.references import REFERENCE_DATA_ENV, CodingReferences, default_references
from medbill.coding.scrubber import scrub

__all__ = [
    "REFERENCE_DATA_ENV",
    "CodeList",
    "CodeLists",
    "CodingReferences",
    "Finding",
    "HcpcsLevel2",
    "NcciEdits",
    "ScrubResult",
    "coding_edits",
    "default_references",
    "diagnosis_edits",
    "exists",
    "is_billable",
    "is_modifier",
    "is_procedure_code",
    "ncci_edits",
    "scrub",
]
