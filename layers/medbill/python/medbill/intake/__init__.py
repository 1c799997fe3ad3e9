"""Encounter file readers: JSON (array or JSON Lines), CSV, HL7 v2 DFT and FHIR R4 Bundles -> validated
encounters + rejections."""

from medbill.intake.fhir.bundle import FhirIntakeResult, read_fhir_bundle
from medbill.intake.hl7v2.reader import Hl7IntakeResult, read_hl7_file
from medbill.intake.reader import read_encounter_file
from medbill.intake.report import intake_report
from medbill.intake.result import AcceptedRecord, IntakeResult, Rejection, rejection_report

__all__ = [
    "AcceptedRecord",
    "FhirIntakeResult",
    "Hl7IntakeResult",
    "IntakeResult",
    "Rejection",
    "intake_report",
    "read_encounter_file",
    "read_fhir_bundle",
    "read_hl7_file",
    "rejection_report",
]
