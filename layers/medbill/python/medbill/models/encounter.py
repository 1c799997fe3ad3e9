"""The encounter: what a clinic sends us for one visit. One valid encounter becomes one claim."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, field_validator, model_validator

from medbill.models.common import (
    Address,
    FirstName,
    MiddleName,
    Model,
    Money,
    Name,
    Npi,
    Person,
    Taxonomy,
    Tin,
    X12Text,
)

# CPT: 5 digits, or 4 digits + F (category II) / T (category III) / U (PLA). HCPCS Level II: letter + 4 digits.
PROCEDURE_CODE = re.compile(r"^(\d{5}|\d{4}[FTU]|[A-V]\d{4})$")
# ICD-10-CM shape (existence and billability are checked against the CMS code set in medbill.coding).
ICD10_SHAPE = re.compile(r"^[A-Z]\d[0-9A-Z]([0-9A-Z]{1,4})?$")


def normalize_icd10(code: str) -> str:
    """'e11.9 ' -> 'E119': the form X12 HI segments carry."""
    return code.strip().upper().replace(".", "")


Relationship = Literal["self", "spouse", "child", "other"]
# X12 individual relationship codes (SBR02 / PAT01).
RELATIONSHIP_CODES: dict[str, str] = {"self": "18", "spouse": "01", "child": "19", "other": "G8"}


def is_anesthesia(code: str) -> bool:
    """CPT anesthesia codes 00100-01999: billed in minutes (837P SV103 = MJ), not units."""
    return len(code) == 5 and code.isdigit() and 100 <= int(code) <= 1999


def _not_a_bool(value: object) -> object:
    # JSON `true` would otherwise pass as pointer 1.
    if isinstance(value, bool):
        raise ValueError("a diagnosis pointer is a number 1 to 12, not true/false")
    return value


class Coverage(Model):
    payer_id: Annotated[str, StringConstraints(min_length=2, max_length=80, pattern=r"^[A-Za-z0-9-]+$")]
    payer_name: Annotated[str, StringConstraints(min_length=1, max_length=60), X12Text]
    member_id: Annotated[str, StringConstraints(min_length=2, max_length=80, pattern=r"^[A-Za-z0-9-]+$")]
    group_number: Annotated[str, StringConstraints(max_length=50), X12Text] | None = None
    claim_filing_indicator: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{2}$")] = "CI"


class Subscriber(Model):
    """The insured person. `person` is omitted when the patient is the subscriber."""

    relationship: Relationship = "self"
    person: Person | None = None

    @model_validator(mode="after")
    def _person_when_not_self(self) -> Subscriber:
        if self.relationship != "self" and self.person is None:
            raise ValueError("subscriber.person is required when relationship is not 'self'")
        if self.relationship == "self" and self.person is not None:
            raise ValueError("subscriber.person must be omitted when relationship is 'self'")
        return self


class OtherCoverage(Model):
    """A further coverage (secondary, tertiary): its payer and member id, and who holds it."""

    coverage: Coverage
    subscriber: Subscriber = Field(default_factory=Subscriber)


class Guarantor(Model):
    """Who is responsible for the patient's balance (HL7 GT1, FHIR Account.guarantor): the statement
    is addressed to them. Omitted: the subscriber for a dependent patient, else the patient. A name
    and a mailing address are all a statement needs (no birth date: GT1 often has none)."""

    last_name: Name
    first_name: FirstName | None = None
    middle_name: MiddleName | None = None
    address: Address
    relationship: Relationship = "self"  # of the guarantor to the patient


class Provider(Model):
    npi: Npi
    taxonomy: Taxonomy
    # An organization has only `organization_name`; a person has last and first name.
    organization_name: Annotated[str, StringConstraints(min_length=1, max_length=60), X12Text] | None = None
    last_name: Name | None = None
    first_name: FirstName | None = None
    tin: Tin | None = None
    address: Address | None = None

    @model_validator(mode="after")
    def _has_a_name(self) -> Provider:
        if not self.organization_name and not self.last_name:
            raise ValueError("provider needs organization_name or last_name")
        return self


def _zip_plus_4(value: str) -> str:
    if not (len(value) == 9 and value.isdigit()):
        raise ValueError("the billing provider needs the 9-digit ZIP+4 (no dash), e.g. 627011234")
    return value


class BillingAddress(Address):
    # The 837P billing provider address (loop 2010AA N403) must carry the full ZIP+4: clearinghouse
    # front-end edits reject a 5-digit ZIP there.
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_zip_plus_4)]


# EIN prefixes the IRS has never assigned (00 covers 000000000); SSN parts the SSA never issues.
_NEVER_EIN_PREFIX = "00"
_NEVER_SSN_AREA = ("000", "666")


def plain_invalid_tin(tin: str, qualifier: str) -> str | None:
    """Why a 9-digit tax id can never be valid (None if it may be): the value itself is never quoted."""
    if qualifier == "EI":
        return "an EIN cannot start with 00" if tin.startswith(_NEVER_EIN_PREFIX) else None
    if tin[:3] in _NEVER_SSN_AREA or tin[0] == "9":
        return "an SSN cannot start with 000, 666 or 9"
    if tin[3:5] == "00" or tin[5:] == "0000":
        return "an SSN cannot have group 00 or serial 0000"
    return None


class BillingProvider(Provider):
    tin: Tin  # REF (2010AA) is required on the 837P billing provider
    # REF01: EI = employer identification number; SY = social security number (a sole proprietor).
    tin_qualifier: Literal["EI", "SY"] = "EI"
    address: BillingAddress  # 2010AA: a street address, never a PO box (the scrubber holds one)
    # 2010AB pay-to address: where payments go when that differs, e.g. the clinic's PO box or lock box.
    pay_to_address: Address | None = None

    @model_validator(mode="after")
    def _tin_can_exist(self) -> BillingProvider:
        why = plain_invalid_tin(self.tin, self.tin_qualifier)
        if why:
            raise ValueError(f"tin is not a valid tax id ({why})")
        return self


class ServiceFacility(Model):
    """2310C service facility location: where the service was given, when that is not the billing
    provider's address (a hospital, an ASC, a nursing facility)."""

    organization_name: Annotated[str, StringConstraints(min_length=1, max_length=60), X12Text]
    npi: Npi | None = None
    address: BillingAddress  # N403 in 2310C takes the ZIP+4 as 2010AA does


class ServiceLine(Model):
    procedure_code: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True)]
    modifiers: list[Annotated[str, StringConstraints(to_upper=True, pattern=r"^[0-9A-Z]{2}$")]] = Field(
        default_factory=list, max_length=4
    )
    units: Decimal = Field(default=Decimal(1), gt=0, max_digits=6, decimal_places=3)
    diagnosis_pointers: list[Annotated[int, BeforeValidator(_not_a_bool)]] = Field(min_length=1, max_length=4)
    # Optional: when absent the clinic's fee schedule prices the line.
    charge: Money | None = Field(default=None, gt=0)

    @field_validator("procedure_code")
    @classmethod
    def _procedure_shape(cls, value: str) -> str:
        if not PROCEDURE_CODE.fullmatch(value):
            raise ValueError(f"{value} is not a CPT or HCPCS code (5 characters: 99213, 0001F, J1100)")
        return value

    @field_validator("diagnosis_pointers")
    @classmethod
    def _pointer_range(cls, value: list[int]) -> list[int]:
        for p in value:
            if not 1 <= p <= 12:
                raise ValueError(f"diagnosis pointer {p} is outside 1..12")
        if len(set(value)) != len(value):
            raise ValueError("diagnosis pointers repeat")
        return value


class Encounter(Model):
    clinic_id: Annotated[str, StringConstraints(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9_-]+$")]
    encounter_id: Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$")]
    date_of_service: date
    place_of_service: Annotated[str, StringConstraints(pattern=r"^\d{2}$")]
    patient: Person
    subscriber: Subscriber = Field(default_factory=Subscriber)
    coverage: Coverage
    # Coordination of benefits order after `coverage` (the primary): secondary, then tertiary.
    other_coverages: list[OtherCoverage] = Field(default_factory=list, max_length=2)
    guarantor: Guarantor | None = None
    billing_provider: BillingProvider
    rendering_provider: Provider | None = None
    service_facility: ServiceFacility | None = None
    diagnoses: list[Annotated[str, StringConstraints(min_length=3, max_length=8)]] = Field(min_length=1, max_length=12)
    service_lines: list[ServiceLine] = Field(min_length=1, max_length=50)

    @field_validator("diagnoses")
    @classmethod
    def _diagnosis_shape(cls, value: list[str]) -> list[str]:
        codes = [normalize_icd10(c) for c in value]
        for i, code in enumerate(codes, start=1):
            if not ICD10_SHAPE.fullmatch(code):
                raise ValueError(f"diagnosis {i}: {value[i - 1]} is not shaped like an ICD-10-CM code")
        if len(set(codes)) != len(codes):
            raise ValueError("a diagnosis code is listed twice")
        return codes

    @model_validator(mode="after")
    def _pointers_point_at_diagnoses(self) -> Encounter:
        for n, line in enumerate(self.service_lines, start=1):
            for p in line.diagnosis_pointers:
                if p > len(self.diagnoses):
                    raise ValueError(
                        f"service line {n}: diagnosis pointer {p} but only {len(self.diagnoses)} diagnoses"
                    )
        if self.date_of_service > date.today():
            raise ValueError(f"date_of_service {self.date_of_service} is in the future")
        # Dates only in the message, never whose: a DOB is PHI.
        if self.patient.date_of_birth > self.date_of_service:
            raise ValueError("patient.date_of_birth is after date_of_service")
        if self.subscriber.person and self.subscriber.person.date_of_birth > self.date_of_service:
            raise ValueError("subscriber.person.date_of_birth is after date_of_service")
        seen = set()
        for n, (cov, sub) in enumerate(self.coverages, start=1):
            if (cov.payer_id.upper(), cov.member_id.upper()) in seen:
                raise ValueError(f"coverage {n} repeats an earlier coverage's payer and member id")
            seen.add((cov.payer_id.upper(), cov.member_id.upper()))
            if sub.person and sub.person.date_of_birth > self.date_of_service:
                raise ValueError(f"coverage {n}: subscriber.person.date_of_birth is after date_of_service")
        return self

    @property
    def coverages(self) -> list[tuple[Coverage, Subscriber]]:
        """Every coverage in coordination-of-benefits order: primary first."""
        return [(self.coverage, self.subscriber)] + [(o.coverage, o.subscriber) for o in self.other_coverages]

    @property
    def patient_is_subscriber(self) -> bool:
        return self.subscriber.relationship == "self"

    @property
    def insured(self) -> Person:
        return self.patient if self.subscriber.person is None else self.subscriber.person
