"""Pydantic v2 models: encounter (what clinics send), claim (what we bill), patient, remittance."""

from medbill.models.claim import Claim, ClaimLine, RemittanceOutcome
from medbill.models.common import Address, Money, Person
from medbill.models.encounter import Coverage, Encounter, Provider, ServiceLine, Subscriber

__all__ = [
    "Address",
    "Claim",
    "ClaimLine",
    "Coverage",
    "Encounter",
    "Money",
    "Person",
    "Provider",
    "RemittanceOutcome",
    "ServiceLine",
    "Subscriber",
]
