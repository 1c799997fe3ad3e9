"""ICD-10-CM existence and billability against the CMS code set (simple-icd-10-cm)."""

from __future__ import annotations

import pytest

from medbill.coding import icd10


@pytest.mark.parametrize("code", ["E119", "E11.9", "e11.9", " E11.9 ", "I10", "S52521A", "S52.521A", "Z23"])
def test_billable_codes(code: str) -> None:
    assert icd10.exists(code)
    assert icd10.is_billable(code)


@pytest.mark.parametrize("code", ["E11", "E11.6", "E116", "M14.6"])
def test_existing_but_not_billable(code: str) -> None:
    assert icd10.exists(code)
    assert not icd10.is_billable(code)


@pytest.mark.parametrize("code", ["E11.9X", "E119X", "E1190", "Z99999", "4", "E08-E13", ""])
def test_not_existing(code: str) -> None:
    assert not icd10.exists(code)
    assert not icd10.is_billable(code)


def test_category_vs_subcategory() -> None:
    assert icd10.is_category("E11")
    assert not icd10.is_category("E11.6")


def test_manifestation_codes() -> None:
    assert icd10.is_manifestation("G63")  # polyneuropathy in diseases classified elsewhere
    assert icd10.is_manifestation("M14.60")  # parent M14 is "... in diseases classified elsewhere"
    assert not icd10.is_manifestation("E11.9")
    assert not icd10.is_manifestation("E11.9X")


def test_dotted_display_form() -> None:
    assert icd10.dotted("E119X") == "E11.9X"
    assert icd10.dotted("i10") == "I10"
    assert icd10.description("E11.9") == "Type 2 diabetes mellitus without complications"
    assert icd10.description("E11.9X") is None
