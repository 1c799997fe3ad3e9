"""270/271 eligibility (005010X279A1): the 270 writer, the 271 reader (and a 271 writer for tests,
benchmarks and the payer simulator), their models and code tables."""

from medbill.x12.eligibility.codes import IMPLEMENTATION_GUIDE, FollowUp
from medbill.x12.eligibility.models import (
    Benefit,
    DatePeriod,
    Dependent270,
    EligibilityRequest,
    EligibilityResponse,
    InformationReceiver,
    InformationSource,
    Member,
    Party,
    Reference,
    Rejection,
    Subscriber270,
    SubscriberResponse,
    Trace,
    answers_by_trace,
)
from medbill.x12.eligibility.writer270 import service_types_for, write_270

__all__ = [
    "IMPLEMENTATION_GUIDE",
    "Benefit",
    "DatePeriod",
    "Dependent270",
    "EligibilityRequest",
    "EligibilityResponse",
    "FollowUp",
    "InformationReceiver",
    "InformationSource",
    "Member",
    "Party",
    "Reference",
    "Rejection",
    "Subscriber270",
    "SubscriberResponse",
    "Trace",
    "answers_by_trace",
    "service_types_for",
    "write_270",
]
