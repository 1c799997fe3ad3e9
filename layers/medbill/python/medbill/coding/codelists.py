"""The small, stable code lists shipped in the project (medbill/data/codes, made by scripts/gen_code_lists.py).

CMS place-of-service codes, X12 claim filing indicators (SBR09), X12 state/province codes and the NUCC
provider taxonomy. They change rarely; a new version ships with a code release. Each list carries the
version recorded in codes/manifest.json, which the scrubber names in its findings.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

# Places of service billed from a facility that are not "where the patient is" in the 2310C sense:
# telehealth (02, 10: the patient's location is not a service facility) and ambulance (41, 42: the
# 837P carries pick-up and drop-off locations in 2310E/2310F instead).
_NO_SERVICE_FACILITY = frozenset({"02", "10", "41", "42"})


@dataclass(frozen=True)
class CodeList:
    name: str  # manifest key, e.g. "place_of_service"
    version: str  # e.g. "CMS POS 2024-06"
    codes: frozenset[str]

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code.strip().upper() in self.codes


@dataclass(frozen=True)
class CodeLists:
    place_of_service: CodeList
    facility_place_of_service: frozenset[str]  # POS codes CMS prices as facility (the 2310C rule uses them)
    claim_filing_indicator: CodeList
    states: CodeList
    taxonomy: CodeList

    def versions(self) -> dict[str, str]:
        lists = (self.place_of_service, self.claim_filing_indicator, self.states, self.taxonomy)
        return {c.name: c.version for c in lists}

    def needs_service_facility(self, place_of_service: str) -> bool:
        return place_of_service in self.facility_place_of_service and place_of_service not in _NO_SERVICE_FACILITY


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files("medbill").joinpath("data", "codes", name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@lru_cache(maxsize=1)
def packaged() -> CodeLists:
    manifest = json.loads(resources.files("medbill").joinpath("data", "codes", "manifest.json").read_text())

    def code_list(name: str, rows: list[dict[str, str]]) -> CodeList:
        return CodeList(name, manifest[f"{name}.csv"]["version"], frozenset(r["code"] for r in rows))

    pos_rows = _read("place_of_service.csv")
    return CodeLists(
        place_of_service=code_list("place_of_service", pos_rows),
        facility_place_of_service=frozenset(r["code"] for r in pos_rows if r["facility"] == "Y"),
        claim_filing_indicator=code_list("claim_filing_indicator", _read("claim_filing_indicator.csv")),
        states=code_list("state_codes", _read("state_codes.csv")),
        taxonomy=code_list("nucc_taxonomy", _read("nucc_taxonomy.csv")),
    )
