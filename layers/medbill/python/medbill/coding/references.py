"""The reference data the scrubber uses, and which version of each is in force.

- Packaged (medbill/data/codes, a code release updates them): CMS place of service, SBR09 claim
  filing indicators, state codes, NUCC taxonomy.
- Supplied by the user every quarter (no code release): NCCI PTP, NCCI MUE (practitioner), HCPCS
  Level II, read from one directory: `CodingReferences.from_directory(path)`. The Lambdas name that
  directory in MEDBILL_REFERENCE_DATA (docs/scrubber.md: layout, CMS formats, version naming).

`versions()` is what the coding stage records on the claim: every list and file in force, by kind.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from medbill.coding import codelists, icd10
from medbill.coding.cms_files import ReferenceDataError, declared_versions, find_files
from medbill.coding.codelists import CodeLists
from medbill.coding.ncci import NcciEdits
from medbill.coding.procedures import HcpcsLevel2
from medbill.coding.ptp_index import INDEX_NAME, PtpIndex

REFERENCE_DATA_ENV = "MEDBILL_REFERENCE_DATA"
NOT_LOADED = "not loaded"
QUARTERLY_KINDS = ("ncci_ptp", "ncci_mue", "hcpcs")


@dataclass(frozen=True)
class CodingReferences:
    code_lists: CodeLists = field(default_factory=codelists.packaged)
    ncci: NcciEdits | None = None
    hcpcs: HcpcsLevel2 | None = None
    source: str | None = None  # the directory the quarterly files came from (for the runbook, not PHI)

    @classmethod
    def packaged(cls) -> CodingReferences:
        """The shipped code lists only: no NCCI or HCPCS edits until the user supplies the files."""
        return cls()

    @classmethod
    def from_directory(cls, directory: str | Path) -> CodingReferences:
        """The packaged lists plus the quarterly CMS files found under `directory` (any depth)."""
        root = Path(directory)
        if not root.is_dir():
            raise ReferenceDataError(f"reference data directory {root} does not exist")
        files = find_files(root)
        declared = declared_versions(root)
        index = root / INDEX_NAME
        ptp_files = [] if index.is_file() else files["ncci_ptp"]  # the index holds the same table
        ncci = None
        if ptp_files or files["ncci_mue"] or index.is_file():
            ncci = NcciEdits.from_files(mue_files=files["ncci_mue"], ptp_files=ptp_files, declared=declared)
            if index.is_file():
                ncci.ptp_index = PtpIndex(index)
                ncci.ptp_version = ncci.ptp_index.version
        hcpcs = HcpcsLevel2.from_files(files["hcpcs"], declared) if files["hcpcs"] else None
        return cls(ncci=ncci, hcpcs=hcpcs, source=str(root))

    def with_quarterly(self, ncci: NcciEdits | None = None, hcpcs: HcpcsLevel2 | None = None) -> CodingReferences:
        return replace(self, ncci=ncci or self.ncci, hcpcs=hcpcs or self.hcpcs)

    def versions(self) -> dict[str, str]:
        out = self.code_lists.versions()
        out["icd10cm"] = icd10.code_set_version()
        out["ncci_ptp"] = (self.ncci.ptp_version if self.ncci else None) or NOT_LOADED
        out["ncci_mue"] = (self.ncci.mue_version if self.ncci else None) or NOT_LOADED
        out["hcpcs"] = self.hcpcs.version if self.hcpcs else NOT_LOADED
        return out


@lru_cache(maxsize=4)
def _load(directory: str | None) -> CodingReferences:
    return CodingReferences.from_directory(directory) if directory else CodingReferences.packaged()


def default_references() -> CodingReferences:
    """The references for this process: the directory named by MEDBILL_REFERENCE_DATA (read once per
    directory, so a warm Lambda does not re-read the files), else the packaged lists alone."""
    return _load(os.environ.get(REFERENCE_DATA_ENV) or None)
