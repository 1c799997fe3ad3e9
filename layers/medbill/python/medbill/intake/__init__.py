"""Encounter file readers: JSON (array or JSON Lines) and CSV -> validated encounters + rejections."""

from medbill.intake.reader import read_encounter_file
from medbill.intake.result import AcceptedRecord, IntakeResult, Rejection, rejection_report

__all__ = ["AcceptedRecord", "IntakeResult", "Rejection", "read_encounter_file", "rejection_report"]
