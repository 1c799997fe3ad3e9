"""An on-disk index of the NCCI PTP table, for the full quarterly file.

CMS's practitioner PTP table has about 2.5 million edits (160 MB as CSV): parsed into memory it needs
close to 1 GB and over a minute, too much for a Lambda cold start. Build the index once when the
quarter's files are uploaded; the loader then opens it read-only and looks pairs up on demand:

    python -m medbill.coding.ptp_index /path/to/reference-data      # writes ncci_ptp.sqlite there

`CodingReferences.from_directory` uses `ncci_ptp.sqlite` when it is present (its recorded version is
the one the claims name), else parses the PTP files themselves (fine for subsets).
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from medbill.coding.cms_files import declared_versions, find_files, version_of
from medbill.coding.ncci import PtpEdit, ptp_rows

INDEX_NAME = "ncci_ptp.sqlite"
_BATCH = 50_000


def build_index(ptp_files: Sequence[Path], version: str, target: Path) -> int:
    """Write the edits of `ptp_files` to a new SQLite file at `target`; returns the number of edits."""
    tmp = target.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    count = 0
    try:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("CREATE TABLE ptp (c1 TEXT, c2 TEXT, indicator TEXT, effective TEXT, deleted TEXT)")
        batch: list[tuple[str, str, str, str | None, str | None]] = []
        for path in ptp_files:
            for (c1, c2), edit in ptp_rows(path):
                batch.append((c1, c2, edit.modifier_indicator, _iso(edit.effective), _iso(edit.deleted_after)))
                if len(batch) >= _BATCH:
                    db.executemany("INSERT INTO ptp VALUES (?, ?, ?, ?, ?)", batch)
                    count += len(batch)
                    batch.clear()
        db.executemany("INSERT INTO ptp VALUES (?, ?, ?, ?, ?)", batch)
        count += len(batch)
        db.execute("CREATE INDEX ptp_pair ON ptp (c1, c2)")
        db.executemany("INSERT INTO meta VALUES (?, ?)", [("version", version), ("edits", str(count))])
        db.commit()
    finally:
        db.close()
    tmp.replace(target)
    return count


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


class PtpIndex:
    """Read-only lookups in an index built by `build_index`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        row = self._db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        self.version: str = row[0] if row else f"NCCI PTP {path.name}"

    def edits(self, column1: str, column2: str) -> list[PtpEdit]:
        rows = self._db.execute(
            "SELECT indicator, deleted, effective FROM ptp WHERE c1 = ? AND c2 = ?", (column1, column2)
        ).fetchall()
        return [PtpEdit(ind, _date(deleted), _date(effective)) for ind, deleted, effective in rows]

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM ptp").fetchone()[0])


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m medbill.coding.ptp_index REFERENCE_DIRECTORY", file=sys.stderr)
        return 2
    directory = Path(argv[0])
    files = find_files(directory)["ncci_ptp"]
    if not files:
        print(f"no NCCI PTP files under {directory}", file=sys.stderr)
        return 1
    version = version_of("ncci_ptp", files, declared_versions(directory))
    count = build_index(files, version, directory / INDEX_NAME)
    print(f"{directory / INDEX_NAME}: {count} edits, {version}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
