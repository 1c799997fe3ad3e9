"""HL7 v2 DFT^P03 / DFT^P11 files -> encounters, per-message rejections and ACKs (see docs/ehr-intake.md)."""
