"""Property: any claim shape we can hold, written as an 837P, passes pyx12 with zero errors,
summarize_837p reads back the ids and amounts we wrote, claims nest under one 2000A per billing
provider and one 2000B per subscriber and payer, and every ST02 comes from the caller's counter."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.config import ClearinghouseSettings
from medbill.models.claim import Claim
from medbill.x12.claim837 import ControlNumbers, summarize_837p, transactions_needed, write_837p
from medbill.x12.envelope import check_envelopes
from medbill.x12.tokenizer import tokenize
from testkit.x12_oracle import make_claim, make_person, pyx12_errors

PROCEDURES = ("99213", "99214", "81002", "J1100", "0001F", "G0008", "0359T")
MODIFIERS = ("25", "59", "GT", "95", "LT", "RT", "76", "TC", "26", "XU")
DIAGNOSES = ("E119", "I10", "J449", "M545", "R51", "Z0000", "E785", "K219", "F329", "G4733", "N390", "R0602", "S93401A")
PAYERS = ("PAYER01", "87726", "BCBSX")
NAMES = (("DOE", "JANE"), ("O'BRIEN", "SEAN"), ("NÚÑEZ", "JOSÉ"), ("SMITH-JONES", "ANNA MARIE"), ("LI", "WEI"))

charges = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
units = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("999.999"), places=3)


# who is insured: relationship, patient name, member id, group number
subscribers = st.tuples(
    st.sampled_from(("self", "self", "spouse", "child", "other")),
    st.sampled_from(NAMES),
    st.sampled_from(("MEM1", "MEM2", "W123-456")),
    st.sampled_from((None, "GRP100")),
)


@st.composite
def claim_shapes(draw: st.DrawFn, claim_id: str, subscriber: tuple[str, tuple[str, str], str, str | None]) -> Claim:
    n_dx = draw(st.integers(1, 12))
    diagnoses = draw(st.lists(st.sampled_from(DIAGNOSES), min_size=n_dx, max_size=n_dx, unique=True))
    n_lines = draw(st.integers(1, 50))
    lines = []
    for _ in range(n_lines):
        pointers = draw(st.lists(st.integers(1, n_dx), min_size=1, max_size=min(4, n_dx), unique=True))
        mods = draw(st.lists(st.sampled_from(MODIFIERS), max_size=4, unique=True))
        lines.append((draw(st.sampled_from(PROCEDURES)), mods, str(draw(units)), str(draw(charges)), pointers))
    relationship, (last, first), member_id, group_number = subscriber
    frequency = draw(st.sampled_from(("1", "1", "7", "8")))
    return make_claim(
        claim_id,
        lines=lines,
        diagnoses=diagnoses,
        relationship=relationship,
        patient=make_person(last, first),
        billing_index=draw(st.integers(0, 2)),
        rendering_index=draw(st.one_of(st.none(), st.integers(0, 2))),
        frequency_code=frequency,
        payer_claim_number=None if frequency == "1" else f"PCN{claim_id}",
        member_id=member_id,
        payer_id=draw(st.sampled_from(PAYERS)),
        place_of_service=draw(st.sampled_from(("11", "02", "22", "81"))),
        group_number=group_number,
    )


@st.composite
def files(draw: st.DrawFn) -> list[Claim]:
    n = draw(st.integers(1, 4))
    # Often one subscriber for every claim, so that only the billing provider and the payer tell the
    # claims apart and the 2000A / 2000B grouping is exercised, not just one loop per claim.
    shared = draw(subscribers) if draw(st.booleans()) else None
    return [draw(claim_shapes(f"CLM{i:03d}", shared or draw(subscribers))) for i in range(n)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(claims=files(), per_transaction=st.integers(1, 5))
def test_any_claim_shape_is_pyx12_clean_and_reads_back(claims: list[Claim], per_transaction: int) -> None:
    counter = count(123)
    needed = transactions_needed(len(claims), per_transaction)
    numbers = ControlNumbers.from_counter(lambda: next(counter), transactions=needed)
    text = write_837p(
        claims,
        settings=ClearinghouseSettings(),
        control_numbers=numbers,
        created=datetime(2025, 3, 15, 10, 5),
        claims_per_transaction=per_transaction,
    )
    assert pyx12_errors(text) == []
    assert check_envelopes(text)[1] == []
    assert [s.get(2) for s in tokenize(text) if s.id == "ST"] == [f"{n:04d}" for n in range(123, 123 + needed)]
    assert_grouped_by_provider_and_payer(text, claims)
    summary = summarize_837p(text)
    by_id = {c["claim_id"]: c for c in summary["claims"]}
    assert sorted(by_id) == sorted(c.claim_id for c in claims)
    for claim in claims:
        got = by_id[claim.claim_id]
        assert got["total_charge"] == f"{claim.total_charge:.2f}"
        assert got["frequency_code"] == claim.frequency_code
        assert got["payer_claim_number"] == claim.payer_claim_number
        assert got["payer_id"] == claim.payer_id
        assert got["billing_npi"] == claim.encounter.billing_provider.npi
        assert got["diagnosis_codes"] == claim.encounter.diagnoses
        assert got["place_of_service"] == claim.encounter.place_of_service
        assert [
            (ln["procedure_code"], ln["modifiers"], Decimal(ln["units"]), ln["charge"], ln["diagnosis_pointers"])
            for ln in got["lines"]
        ] == [
            (ln.procedure_code, ln.modifiers, ln.units, f"{ln.charge:.2f}", ln.diagnosis_pointers) for ln in claim.lines
        ]
        assert [ln["line_control_number"] for ln in got["lines"]] == [ln.line_control_number for ln in claim.lines]
    assert summary["total_charge"] == f"{sum(c.total_charge or 0 for c in claims):.2f}"


def assert_grouped_by_provider_and_payer(text: str, claims: list[Claim]) -> None:
    """In each transaction: one 2000A per billing provider, and under it one 2000B per subscriber and
    payer; every claim sits under its own provider's NPI and its own payer's id."""
    by_id = {c.claim_id: c for c in claims}
    providers: Counter[str] = Counter()
    subscribers: Counter[tuple[str, ...]] = Counter()
    npi = payer = ""
    insured: tuple[str, ...] = ()
    sbr: tuple[str, ...] = ()
    for seg in tokenize(text):
        if seg.id == "ST":
            providers.clear()
            subscribers.clear()
        elif seg.id == "HL" and seg.get(3) == "20":
            npi = ""
        elif seg.id == "NM1" and seg.get(1) == "85":
            npi = seg.get(9)
            providers[npi] += 1
        elif seg.id == "SBR":
            sbr = (seg.get(2), seg.get(3))  # self or not, group number
        elif seg.id == "NM1" and seg.get(1) == "IL":
            insured = (seg.get(3), seg.get(4), seg.get(9))  # name and member id
        elif seg.id == "NM1" and seg.get(1) == "PR":
            payer = seg.get(9)
            subscribers[(npi, payer, *sbr, *insured)] += 1
        elif seg.id == "CLM":
            claim = by_id[seg.get(1)]
            assert (npi, payer) == (claim.encounter.billing_provider.npi, claim.payer_id)
        elif seg.id == "SE":
            assert max(providers.values()) == 1, providers
            assert max(subscribers.values()) == 1, subscribers
