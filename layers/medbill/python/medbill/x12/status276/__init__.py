"""Claim status inquiry and response, 005010X212: the 276 we send when a claim goes quiet and the
277 the payer answers with (category A*/P*/F*/R*/E* and status codes, amounts, payer claim number).

Split by role: ``models.py``, ``writer276.py`` (write_276), ``reader277.py`` (read_277,
summarize_277, check_277, read_276_claims for the simulator), ``writer277.py`` (write_277, for the
simulator). Every public name is importable from ``medbill.x12.status276`` itself.
"""

from medbill.x12.status276.models import (
    IMPLEMENTATION_X212,
    ClaimStatus277,
    Person276,
    Status277,
    StatusRequest,
    StatusResponse,
)
from medbill.x12.status276.reader277 import (
    check_276,
    check_277,
    read_276_claims,
    read_277,
    summarize_276,
    summarize_277,
)
from medbill.x12.status276.writer276 import write_276
from medbill.x12.status276.writer277 import StatusAnswer, write_277

__all__ = [
    "IMPLEMENTATION_X212",
    "ClaimStatus277",
    "Person276",
    "Status277",
    "StatusAnswer",
    "StatusRequest",
    "StatusResponse",
    "check_276",
    "check_277",
    "read_276_claims",
    "read_277",
    "summarize_276",
    "summarize_277",
    "write_276",
    "write_277",
]
