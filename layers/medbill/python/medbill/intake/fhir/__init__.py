"""FHIR R4 Bundles -> encounters and an OperationOutcome per entry (see docs/ehr-intake.md)."""
