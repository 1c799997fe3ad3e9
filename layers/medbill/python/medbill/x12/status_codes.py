"""Health care claim status codes (277CA and 277 STC): category (X12 code source 507), status
(code source 508) and entity identifier, in words. The code lists ship in medbill/data/claim_status
(scripts/gen_claim_status_codes.py); a code not in them is named as unknown, never guessed."""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from importlib import resources

__all__ = ["category_meaning", "describe", "entity_meaning", "status_meaning"]

# Entity identifier codes (98) a claim status names most often (STC01-3).
ENTITIES = {
    "03": "dependent",
    "1P": "provider",
    "40": "receiver",
    "41": "submitter",
    "71": "attending physician",
    "77": "service location",
    "82": "rendering provider",
    "85": "billing provider",
    "87": "pay-to provider",
    "DN": "referring provider",
    "FA": "facility",
    "IL": "insured or subscriber",
    "PR": "payer",
    "QC": "patient",
}


@lru_cache(maxsize=2)
def _codes(name: str) -> dict[str, str]:
    text = resources.files("medbill").joinpath("data", "claim_status", name).read_text(encoding="utf-8")
    return {row["code"]: row["description"] for row in csv.DictReader(io.StringIO(text))}


def category_meaning(category: str) -> str:
    codes = _codes("category.csv")
    if category not in codes:
        return f"unknown category {category}"
    return codes[category] or f"category {category}"


def status_meaning(code: str) -> str:
    codes = _codes("status.csv")
    if code not in codes:
        return f"unknown status code {code}"
    return codes[code] or f"status code {code} (X12 code source 508)"


def entity_meaning(entity: str) -> str:
    return ENTITIES.get(entity, f"entity {entity}")


def describe(category: str, code: str, entity: str = "") -> str:
    """'A7', '562', '85' -> 'A7:562:85 Acknowledgement/Rejected for invalid information: Entity's
    National Provider Identifier (NPI) (billing provider)'. Codes only: no value from the claim."""
    words = f"{category_meaning(category)}: {status_meaning(code)}" if code else category_meaning(category)
    label = ":".join(p for p in (category, code, entity) if p)
    return f"{label} {words}" + (f" ({entity_meaning(entity)})" if entity else "")
