"""The report of any encounter file: the rejection report, plus what the EHR formats answer.

HL7 v2 files add one line per message (MSH-10, type, encounter and claim id, ACK code) with its ACK
as HL7 text; FHIR Bundles add the response Bundle (an OperationOutcome per entry). JSON and CSV
reports are exactly `rejection_report`'s.
"""

from __future__ import annotations

from typing import Any

from medbill.intake.fhir.bundle import FhirIntakeResult
from medbill.intake.hl7v2.reader import Hl7IntakeResult
from medbill.intake.result import IntakeResult, rejection_report


def intake_report(source_key: str, result: IntakeResult) -> dict[str, Any]:
    report = rejection_report(source_key, result)
    if isinstance(result, Hl7IntakeResult):
        report["messages"] = [m.to_dict() for m in result.messages]
    if isinstance(result, FhirIntakeResult) and result.response:
        report["response"] = result.response
    return report
