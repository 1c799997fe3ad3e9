"""837P samples (read in place): they tokenize and re-serialize to the same segments, the pyx12
oracle gives the documented verdicts, and summarize_837p reads what they claim."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from medbill.x12.claim837 import read_837p, summarize_837p
from medbill.x12.segments import serialize
from medbill.x12.tokenizer import detect_delimiters, tokenize
from testkit.x12_oracle import pyx12_errors
from tests.conformance.conftest import sample_text, x12_samples_dir


def _names(folder: str) -> list[str]:
    path = x12_samples_dir() / folder
    return sorted(p.name for p in path.iterdir() if p.is_file()) if path.is_dir() else ["(samples absent)"]


SAMPLES = [("837p", n) for n in _names("837p")] + [("837p_broken", n) for n in _names("837p_broken")]


@pytest.mark.parametrize(("folder", "name"), SAMPLES, ids=[f"{f}/{n}" for f, n in SAMPLES])
def test_sample_round_trips_through_tokenizer_and_serializer(x12_samples: Path, folder: str, name: str) -> None:
    text = sample_text(x12_samples / folder / name)
    delimiters = detect_delimiters(text)
    segments = list(tokenize(text))
    written = serialize(segments, delimiters, line_breaks=False)
    assert list(tokenize(written)) == segments
    # Byte for byte too, once the sample's BOM, line breaks and indentation are set aside.
    term = re.escape(delimiters.segment)
    normalized = re.sub(term + r"\s*", delimiters.segment, text.lstrip("\ufeff \t\r\n")).rstrip()
    if not normalized.endswith(delimiters.segment):  # a sample may lack its final terminator; we write it
        normalized += delimiters.segment
    assert written == normalized
    assert list(tokenize(serialize(segments, delimiters))) == segments  # one segment per line


def test_oracle_passes_the_known_good_sample(x12_samples: Path) -> None:
    text = sample_text(x12_samples / "837p" / "derived_lfh_example1_X222A1_valid.txt")
    assert pyx12_errors(text) == []


def test_oracle_finds_exactly_the_missing_hi(x12_samples: Path) -> None:
    text = sample_text(x12_samples / "837p_broken" / "derived_lfh_example1_missing_HI.txt")
    errors = pyx12_errors(text)
    assert len(errors) == 1
    assert "(HI) missing" in errors[0]


def test_summary_of_the_known_good_sample(x12_samples: Path) -> None:
    summary = summarize_837p(sample_text(x12_samples / "837p" / "derived_lfh_example1_X222A1_valid.txt"))
    assert summary["envelope_problems"] == []
    (claim,) = summary["claims"]
    assert claim["claim_id"] == "26463774"
    assert (claim["total_charge"], claim["place_of_service"], claim["frequency_code"]) == ("100.00", "11", "1")
    assert (claim["payer_id"], claim["billing_npi"]) == ("999996666", "1912301953")
    assert claim["diagnosis_codes"] == ["0340", "V7389"]
    assert [(ln["procedure_code"], ln["charge"], ln["diagnosis_pointers"]) for ln in claim["lines"]] == [
        ("99213", "40.00", [1]),
        ("87070", "15.00", [1]),
        ("99214", "35.00", [2]),
        ("86663", "10.00", [2]),
    ]
    assert sum(Decimal(ln["charge"]) for ln in claim["lines"]) == Decimal("100.00")


@pytest.mark.parametrize(
    ("name", "claims", "total"),
    [
        ("oop_837P_Example1_2_3_Combined.txt", 3, "279.04"),
        ("oop_837P_MedicaidExample.txt", 5, "499.95"),
        ("imsweb_x12_complex.txt", 6, "3000.00"),
        ("lfh_demo.drug.example10.2.837", 1, "2232.93"),
    ],
)
def test_summary_counts_claims_and_charges(x12_samples: Path, name: str, claims: int, total: str) -> None:
    # Totals as the samples state them (de-identified samples do not always balance their lines).
    summary = summarize_837p(sample_text(x12_samples / "837p" / name))
    assert (summary["claim_count"], summary["total_charge"]) == (claims, total)
    assert all(claim["lines"] for claim in summary["claims"])


@pytest.mark.parametrize(("folder", "name"), SAMPLES, ids=[f"{f}/{n}" for f, n in SAMPLES])
def test_every_sample_has_readable_numbers(x12_samples: Path, folder: str, name: str) -> None:
    _, _, number_errors = read_837p(sample_text(x12_samples / folder / name))
    assert number_errors == []


def test_reader_problems_on_the_samples(x12_samples: Path) -> None:
    _, problems, _ = read_837p(sample_text(x12_samples / "837p" / "derived_lfh_example1_X222A1_valid.txt"))
    assert problems == []
    # De-identification left CLM02 at 99.99 while the lines add up to 109.98, and no HI, in all five claims.
    _, problems, _ = read_837p(sample_text(x12_samples / "837p" / "oop_837P_MedicaidExample.txt"))
    assert len(problems) == 10
    assert problems[:2] == [
        "CLM at segment 22 (claim 9999): no diagnosis (HI).",
        "CLM at segment 22 (claim 9999): CLM02 total charge 99.99 is not the sum of its SV102 line charges 109.98.",
    ]
    _, problems, _ = read_837p(sample_text(x12_samples / "837p_broken" / "derived_lfh_example1_missing_HI.txt"))
    assert problems == ["CLM at segment 27 (claim 26463774): no diagnosis (HI)."]


def test_other_payer_billing_provider_loop_does_not_clear_the_billing_npi(x12_samples: Path) -> None:
    # The sample has an NM1*85 without NPI in loop 2330G of a claim: the next claim keeps 2010AA's NPI.
    summary, problems, _ = read_837p(sample_text(x12_samples / "837p" / "imsweb_x12_complex.txt"))
    assert not any("no billing provider NPI" in p for p in problems)
    assert all(claim["billing_npi"] for claim in summary["claims"])
