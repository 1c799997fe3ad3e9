"""837P professional claims (005010X222A1): the writer of our claims and the one 837P reader.

- ``writer.py``: write_837p (and transactions_needed; ControlNumbers lives in ``x12/interchange.py``).
- ``reader.py``: read_submission, the one reader (used by the CLI, the 277CA writer and the payer
  simulator), into the models of ``models.py``.
- ``summary.py``: read_837p / summarize_837p, the JSON view of the CLI (no PHI).

Every public name is importable from ``medbill.x12.claim837`` itself.
"""

from medbill.x12.claim837.models import (
    BillingProvider837,
    Claim837,
    LineAdjudication837,
    Name,
    OtherPayer837,
    ServiceLine837,
    Submission837,
    Transaction837,
)
from medbill.x12.claim837.reader import read_submission
from medbill.x12.claim837.summary import read_837p, summarize_837p
from medbill.x12.claim837.writer import (
    IMPLEMENTATION_837P,
    MAX_CLAIMS_PER_TRANSACTION,
    ClearinghouseLike,
    transactions_needed,
    write_837p,
)
from medbill.x12.interchange import MAX_CONTROL_NUMBER, ControlNumbers

__all__ = [
    "IMPLEMENTATION_837P",
    "MAX_CLAIMS_PER_TRANSACTION",
    "MAX_CONTROL_NUMBER",
    "BillingProvider837",
    "Claim837",
    "ClearinghouseLike",
    "ControlNumbers",
    "LineAdjudication837",
    "Name",
    "OtherPayer837",
    "ServiceLine837",
    "Submission837",
    "Transaction837",
    "read_837p",
    "read_submission",
    "summarize_837p",
    "transactions_needed",
    "write_837p",
]
