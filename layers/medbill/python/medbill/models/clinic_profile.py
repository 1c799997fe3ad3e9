"""A clinic's profile: what an EHR charge message (HL7 v2 DFT, FHIR) does not carry but a claim needs.

The billing provider (NPI, TIN, taxonomy, name, street address with ZIP+4), the pay-to address, the
default place of service and which fee schedule prices the clinic's lines; plus how to read the
clinic's interface engine: which identifiers name the clinic in a message, where the encounter id is,
how the EHR's payer ids map to clearinghouse payer ids, and the rendering providers' taxonomies.
Validated like encounters (the same field types); no I/O here: storage comes with the wiring.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from medbill.models.common import Address, Model, Npi, Taxonomy
from medbill.models.encounter import BillingProvider

PlaceOfService = Annotated[str, StringConstraints(pattern=r"^\d{2}$")]
Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]

# Where an HL7 v2 DFT carries the encounter id (the visit), by interface engine convention.
EncounterIdField = Literal["PV1-19", "PV1-50", "PID-18", "FT1-2", "FT1-23"]
# Fields a sender may misuse for the procedure code / the line charge (tried in the order given).
ProcedureField = Literal["FT1-25", "FT1-7", "FT1-22", "PR1-3"]
ChargeField = Literal["FT1-11", "FT1-7", "FT1-22"]
_PROCEDURE_DEFAULT: tuple[ProcedureField, ...] = ("FT1-25",)
_CHARGE_DEFAULT: tuple[ChargeField, ...] = ("FT1-11",)


class PayerRoute(Model):
    """How one of the EHR's payer ids (HL7 IN1-3, FHIR Coverage.payor identifier) is billed."""

    payer_id: Annotated[str, StringConstraints(min_length=2, max_length=80, pattern=r"^[A-Za-z0-9-]+$")]
    payer_name: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    claim_filing_indicator: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{2}$")] = "CI"


class Hl7Options(Model):
    """The clinic's HL7 v2 conventions (defaults follow the standard)."""

    encounter_id_field: EncounterIdField = "PV1-19"
    procedure_fields: list[ProcedureField] = Field(default_factory=lambda: list(_PROCEDURE_DEFAULT), min_length=1)
    charge_fields: list[ChargeField] = Field(default_factory=lambda: list(_CHARGE_DEFAULT), min_length=1)
    # "FT1": every FT1 charge is a line (PR1 adds diagnoses and modifiers); "PR1": the sender charges by PR1.
    line_source: Literal["FT1", "PR1"] = "FT1"
    # PV1-3.1 / FT1-16.1 point of care -> CMS place of service.
    locations: dict[Identifier, PlaceOfService] = Field(default_factory=dict)


class ClinicProfile(Model):
    clinic_id: Annotated[str, StringConstraints(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9_-]+$")]
    billing_provider: BillingProvider
    pay_to_address: Address | None = None  # 837P loop 2010AB, when payments go elsewhere
    default_place_of_service: PlaceOfService = "11"
    fee_schedule: Identifier | None = None  # the schedule's name; None = the clinic id's schedule
    # How messages name the clinic: HL7 MSH-4 (HD.1 or HD.2), FHIR Organization identifier values. The
    # billing NPI always names the clinic. A message naming none of these (but naming one) is refused.
    facility_ids: list[Identifier] = Field(default_factory=list)
    payers: dict[Identifier, PayerRoute] = Field(default_factory=dict)
    # Rendering providers the clinic bills for: NPI -> NUCC taxonomy.
    providers: dict[Npi, Taxonomy] = Field(default_factory=dict)
    default_rendering_taxonomy: Taxonomy | None = None
    hl7: Hl7Options = Field(default_factory=Hl7Options)

    @field_validator("facility_ids")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len({v.upper() for v in value}) != len(value):
            raise ValueError("a facility id is listed twice")
        return value

    @model_validator(mode="after")
    def _pay_to_differs(self) -> ClinicProfile:
        billing = self.billing_provider.address.model_dump()
        if self.pay_to_address is not None and self.pay_to_address.model_dump() == billing:
            raise ValueError("pay_to_address repeats the billing address: omit it")
        return self

    @property
    def fee_schedule_name(self) -> str:
        return self.fee_schedule or self.clinic_id

    def names_this_clinic(self, identifiers: list[str]) -> bool:
        """True when one of `identifiers` (as a message names its sender) is this clinic's."""
        mine = {v.upper() for v in self.facility_ids} | {self.billing_provider.npi}
        return any(i.strip().upper() in mine for i in identifiers if i.strip())

    def rendering_taxonomy(self, npi: str) -> str | None:
        return self.providers.get(npi, self.default_rendering_taxonomy)

    def payer_route(self, ehr_payer_id: str) -> PayerRoute | None:
        return self.payers.get(ehr_payer_id.strip())
