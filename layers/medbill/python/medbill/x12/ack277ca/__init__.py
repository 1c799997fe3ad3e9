"""277CA claim acknowledgements (005010X214): read the payer's verdict per claim, write one for the simulator.

The 277CA is a hierarchy: information source (HL 20: payer or clearinghouse) -> information
receiver (HL 21: us, the submitter) -> billing provider (HL 19) -> patient (HL PT) with one
2200D loop per claim: TRN*2 = our claim id (CLM01), STC = status, REF*1K = the payer's claim
number. Each STC carries up to three status codes (STC01, STC10, STC11) as
category:status[:entity]. The category decides: A1/A2 (and A0, A5) accepted, A3/A4/A6/A7/A8
rejected, P0..P5 pending.

Summaries carry ids, codes and amounts only: patient names and member ids (NM1*QC) and dates of
service are read past, never reported.

Split by role: ``models.py``, ``reader.py`` (read_277ca, summarize_277ca, check_277ca), ``writer.py``
(write_277ca, reading the 837P it answers with the one 837P reader). Every public name is importable
from ``medbill.x12.ack277ca`` itself.
"""

from medbill.x12.ack277ca.models import (
    ACCEPTED_CATEGORIES,
    IMPLEMENTATION_277CA,
    PENDING_CATEGORIES,
    REJECTED_CATEGORIES,
    Ack277CA,
    ClaimAck,
    LevelStatus,
    Outcome,
    StatusCode,
    StatusInfo,
)
from medbill.x12.ack277ca.reader import check_277ca, read_277ca, summarize_277ca
from medbill.x12.ack277ca.writer import write_277ca

__all__ = [
    "ACCEPTED_CATEGORIES",
    "IMPLEMENTATION_277CA",
    "PENDING_CATEGORIES",
    "REJECTED_CATEGORIES",
    "Ack277CA",
    "ClaimAck",
    "LevelStatus",
    "Outcome",
    "StatusCode",
    "StatusInfo",
    "check_277ca",
    "read_277ca",
    "summarize_277ca",
    "write_277ca",
]
