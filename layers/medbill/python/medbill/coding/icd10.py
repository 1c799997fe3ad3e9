"""ICD-10-CM lookups against the CMS code set shipped by simple-icd-10-cm.

Codes arrive in X12 form (E119) or dotted form (E11.9), any case; both are accepted. Chapters and
blocks ("4", "E08-E13") are not codes. Billable = a leaf of the tabular list (no more specific child).
"""

from __future__ import annotations

import re
from functools import lru_cache
from types import ModuleType

from medbill.models.encounter import normalize_icd10

# Descriptions of manifestation codes, which the official guidelines forbid as first-listed diagnosis.
_MANIFESTATION_MARKER = "classified elsewhere"


@lru_cache(maxsize=1)
def _cm() -> ModuleType:
    # Imported on first use: parsing the code set takes seconds, and most Lambdas that import
    # medbill.coding (charges, submission) never look up a diagnosis.
    import simple_icd_10_cm

    return simple_icd_10_cm


def dotted(code: str) -> str:
    """'E119' -> 'E11.9' (display form; works for codes that do not exist too)."""
    c = normalize_icd10(code)
    return c if len(c) <= 3 else f"{c[:3]}.{c[3:]}"


@lru_cache(maxsize=8192)
def _lookup(code: str) -> str | None:
    """The package's own spelling of `code` if it is a category or (sub)category code, else None."""
    c = normalize_icd10(code)
    if not c or "-" in c:
        return None
    cm = _cm()
    for candidate in (c, dotted(c)):
        if cm.is_valid_item(candidate) and not cm.is_chapter_or_block(candidate):
            return candidate
    return None


def exists(code: str) -> bool:
    """True if `code` is an ICD-10-CM category, subcategory or code in the CMS code set."""
    return _lookup(code) is not None


@lru_cache(maxsize=8192)
def is_billable(code: str) -> bool:
    """True if `code` exists and is a leaf: valid on a claim (HIPAA requires the most specific code)."""
    found = _lookup(code)
    return found is not None and _cm().is_leaf(found)


def is_category(code: str) -> bool:
    """True for a three-character category (E11), as opposed to a subcategory (E11.6)."""
    found = _lookup(code)
    return found is not None and _cm().is_category(found)


@lru_cache(maxsize=8192)
def is_manifestation(code: str) -> bool:
    """Heuristic: the code or one of its parent categories is '... in diseases classified elsewhere'.

    Those codes describe a manifestation and must follow the underlying condition ("code first").
    """
    found = _lookup(code)
    if found is None:
        return False
    cm = _cm()
    chain = [found, *(a for a in cm.get_ancestors(found) if not cm.is_chapter_or_block(a))]
    return any(_MANIFESTATION_MARKER in cm.get_description(c).lower() for c in chain)


def description(code: str) -> str | None:
    """The CMS descriptor (public domain), or None if the code does not exist."""
    found = _lookup(code)
    return None if found is None else _cm().get_description(found)


def warm() -> None:
    """Load the code set now (call from a Lambda's init phase, which runs at full CPU)."""
    _cm()


@lru_cache(maxsize=1)
def code_set_version() -> str:
    """'ICD-10-CM April-1-2026': the release of the CMS code set the package ships (its data file's name)."""
    from importlib import resources

    names = sorted(p.name for p in resources.files("simple_icd_10_cm").joinpath("data").iterdir())
    found = [m[1] for n in names if (m := re.search(r"tabular-(.+)\.xml$", n))]
    return f"ICD-10-CM {found[-1]}" if found else "ICD-10-CM (simple-icd-10-cm)"
