"""Shared helpers for the X12 tests: pyx12 4.0.0 as an independent oracle, and claims to write.

`pyx12_errors(text)` returns every error pyx12 reports (empty list = valid). pyx12 reports
errors only through its loggers, so a handler on the `pyx12` logger collects them while one
document is validated; a lock keeps concurrent callers from mixing their errors.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

import pyx12.errors
import pyx12.params
import pyx12.x12n_document

from medbill.models.claim import Claim, ClaimLine
from medbill.models.common import Address, Person
from medbill.models.encounter import BillingAddress, BillingProvider, Coverage, Encounter, Provider, Subscriber

_LOCK = threading.Lock()


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def pyx12_errors(text: str) -> list[str]:
    """Validate one X12 document with pyx12; the list of its error messages (empty when valid).

    A document pyx12 cannot validate at all (no map for its GS08, not X12) is one error too.
    """
    logger = logging.getLogger("pyx12")
    collector = _Collector()
    with _LOCK:
        old_level, old_propagate = logger.level, logger.propagate
        logger.addHandler(collector)
        logger.setLevel(logging.ERROR)
        logger.propagate = False  # keep pyx12's messages out of pytest's captured logs
        try:
            param = pyx12.params.params()
            valid = pyx12.x12n_document.x12n_document(
                param=param, src_file=io.StringIO(text), fd_997=None, fd_html=None, fd_xmldoc=None
            )
        except pyx12.errors.EngineError as exc:
            collector.messages.append(f"EngineError: {exc}")
            valid = False
        finally:
            logger.removeHandler(collector)
            logger.setLevel(old_level)
            logger.propagate = old_propagate
    if not valid and not collector.messages:
        collector.messages.append("pyx12 found the document invalid without logging an error")
    return collector.messages


# --- claims for the X12 writer tests (synthetic people only) ---------------------------------------

BILLING_NPIS = ("1234567893", "1912301953", "1497758544")
RENDERING_NPIS = ("1003000126", "1679576722", "1386776490")


def make_person(last: str = "DOE", first: str = "JANE", *, dob: date = date(1980, 2, 3), sex: str = "F") -> Person:
    return Person(
        last_name=last,
        first_name=first,
        date_of_birth=dob,
        sex=sex,  # type: ignore[arg-type]
        address=Address(line1="1 MAIN ST", city="SPRINGFIELD", state="IL", postal_code="627010001"),
    )


def make_billing_provider(index: int = 0) -> BillingProvider:
    return BillingProvider(
        npi=BILLING_NPIS[index % len(BILLING_NPIS)],
        taxonomy="207Q00000X",
        organization_name=f"CLINIC {index}",
        tin=f"{123456780 + index:09d}",
        address=BillingAddress(
            line1=f"{100 + index} CLINIC RD", city="SPRINGFIELD", state="IL", postal_code="627040001"
        ),
    )


def make_claim(
    claim_id: str = "CLM0001",
    *,
    lines: Sequence[tuple[str, Sequence[str], str, str, Sequence[int]]] = (("99213", (), "1", "100.00", (1,)),),
    diagnoses: Sequence[str] = ("E119", "I10"),
    relationship: str = "self",
    patient: Person | None = None,
    subscriber: Person | None = None,
    billing_index: int = 0,
    rendering_index: int | None = None,
    frequency_code: str = "1",
    payer_claim_number: str | None = None,
    member_id: str = "MEM123456",
    payer_id: str = "PAYER01",
    place_of_service: str = "11",
    group_number: str | None = "GRP100",
) -> Claim:
    """A priced claim. `lines` items: (procedure code, modifiers, units, charge, diagnosis pointers)."""
    pat = patient or make_person()
    sub = Subscriber(
        relationship=relationship,  # type: ignore[arg-type]
        person=None if relationship == "self" else (subscriber or make_person("DOE", "JOHN", sex="M")),
    )
    rendering = None
    if rendering_index is not None:
        rendering = Provider(
            npi=RENDERING_NPIS[rendering_index % len(RENDERING_NPIS)],
            taxonomy="207R00000X",
            last_name="WELBY",
            first_name="MARCUS",
        )
    service_lines = [
        {
            "procedure_code": code,
            "modifiers": list(mods),
            "units": Decimal(units),
            "charge": Decimal(charge),
            "diagnosis_pointers": list(pointers),
        }
        for code, mods, units, charge, pointers in lines
    ]
    encounter = Encounter(
        clinic_id="CLINIC1",
        encounter_id=f"ENC-{claim_id}",
        date_of_service=date(2025, 3, 14),
        place_of_service=place_of_service,
        patient=pat,
        subscriber=sub,
        coverage=Coverage(
            payer_id=payer_id,
            payer_name="ACME HEALTH",
            member_id=member_id,
            group_number=group_number,
            claim_filing_indicator="CI",
        ),
        billing_provider=make_billing_provider(billing_index),
        rendering_provider=rendering,
        diagnoses=list(diagnoses),
        service_lines=service_lines,  # type: ignore[arg-type]
    )
    claim_lines = [
        ClaimLine(**sl.model_dump(), line_number=n, line_control_number=f"{claim_id}-{n}")
        for n, sl in enumerate(encounter.service_lines, start=1)
    ]
    now = datetime(2025, 3, 15, 9, 30)
    return Claim(
        claim_id=claim_id,
        clinic_id="CLINIC1",
        encounter_id=encounter.encounter_id,
        created_at=now,
        updated_at=now,
        source_key="encounters/test.json",
        record_number=1,
        encounter=encounter,
        lines=claim_lines,
        total_charge=sum((line.charge or Decimal(0) for line in claim_lines), Decimal("0.00")),
        frequency_code=frequency_code,  # type: ignore[arg-type]
        payer_claim_number=payer_claim_number,
    )
