"""CSV encounter files as a stream: rows read one by one and grouped into encounters as they come.

The csv module reads lines from `stream.lines`, so a row longer than limits.MAX_RECORD_BYTES never
reaches it (the row is rejected unread) and a cell is bounded by the csv module's own field limit.
An encounter whose rows are not together (docs/encounter-format.md) is rejected as a whole: that
needs the whole file, so the first pass over a file first scans it for those encounters alone
(`split_encounters`: ids and row numbers, no validation) and a continuation carries what it found.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from medbill.intake.csv_reader import ROWS_SHOWN, CsvRecord, check_consistency, numbers, read_header
from medbill.intake.json_stream import too_many_records
from medbill.intake.limits import (
    MAX_FIELD_CHARS,
    MAX_RECORD_BYTES,
    MAX_RECORDS,
    MAX_ROWS_PER_ENCOUNTER,
    MAX_SPLIT_ENCOUNTERS,
    size_text,
)
from medbill.intake.stream import Cursor, FileError, Opener, lines

# A line the csv module must not see stands in as one cell starting with NUL (never in a text file).
_MARK = "\x00"
Key = tuple[str, str]


@dataclass
class _Feed:
    """Lines for the csv module, keeping where the next row starts."""

    end: int = 0  # offset after the last line given out
    next_line: int = 1  # number of the next line
    problems: dict[int, str] = field(default_factory=dict)  # line number -> why it stands in as a mark


def _feed(chunks: Iterable[bytes], feed: _Feed) -> Iterator[str]:
    for line in lines(chunks, offset=feed.end, number=feed.next_line):
        feed.end, feed.next_line = line.end, line.number + 1
        if line.data is None:
            feed.problems[line.number] = (
                f"is {line.length:,} bytes, over the limit of {size_text(MAX_RECORD_BYTES)} per row"
            )
            yield f"{_MARK}{line.number}\n"
            continue
        data = line.data.removeprefix(b"\xef\xbb\xbf") if line.offset == 0 else line.data
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            feed.problems[line.number] = f"is not UTF-8 text (invalid byte at column {exc.start + 1})"
            yield f"{_MARK}{line.number}\n"
            continue
        if _MARK in text:
            feed.problems[line.number] = "has a NUL byte: binary data, not text"
            yield f"{_MARK}{line.number}\n"
            continue
        yield text + "\n"


@dataclass(frozen=True)
class Row:
    number: int  # data row number (1 = the first row under the header; blank rows count)
    cursor: Cursor  # where the row starts
    cells: list[str]
    problem: str | None = None  # a row the csv module could not be given (too long, not text)


def _header_of(open_at: Opener) -> tuple[list[str], _Feed]:
    feed = _Feed()
    chunks = open_at(0)
    reader = csv.reader(_feed(chunks, feed))
    try:
        header = read_header(reader)
    except csv.Error as exc:
        raise FileError(f"not a readable CSV file: {exc}") from None
    if feed.problems:
        raise FileError(f"the header row {next(iter(feed.problems.values()))}")
    return header, feed


def rows(open_at: Opener, cursor: Cursor | None = None) -> tuple[list[str], Iterator[Row]]:
    """The header and the data rows from `cursor` (a row's start) or from the first row under the header."""
    header, feed = _header_of(open_at)
    if cursor is not None:
        feed = _Feed(end=cursor.offset, next_line=cursor.line)
    return header, _rows(open_at, feed, cursor.record if cursor else 1)


def _rows(open_at: Opener, feed: _Feed, number: int) -> Iterator[Row]:
    reader = csv.reader(_feed(open_at(feed.end), feed))
    while True:
        here = Cursor(number, feed.end, feed.next_line)
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise FileError(
                f"not a readable CSV file from row {number}: {exc}; rows from {number} on were not read"
            ) from None
        if cells and cells[0].startswith(_MARK):
            line = int(cells[0][1:]) if len(cells) == 1 and cells[0][1:].isdigit() else -1
            problem = feed.problems.pop(line, "is not readable text")
            yield Row(number, here, [], f"row {number} {problem}: not read")
        else:
            yield Row(number, here, cells)
        number += 1


def _cells(row: Row, header: list[str]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The row as column -> cell (over-long cells blanked), and the problems of its cells."""
    values: dict[str, str] = {}
    problems: list[tuple[str, str]] = []
    for i, h in enumerate(header):
        cell = row.cells[i].strip() if i < len(row.cells) else ""
        if len(cell) > MAX_FIELD_CHARS:
            over = f"is {len(cell):,} characters, over the limit of {MAX_FIELD_CHARS:,}"
            problems.append((h, f"column {h} of row {row.number} {over}"))
            cell = ""
        values[h] = cell
    return values, problems


def records(
    open_at: Opener, cursor: Cursor | None = None, split: dict[Key, str] | None = None
) -> tuple[list[str], Iterator[tuple[CsvRecord, Cursor]]]:
    """The header and the file's encounter records (adjacent rows with one clinic_id + encounter_id) from
    `cursor` on, each with where it starts. `split`: the reasons `split_encounters` found."""
    header, data = rows(open_at, cursor)
    return header, _group(header, data, split or {}, cursor.seen if cursor else 0)


def _group(
    header: list[str], data: Iterator[Row], split: dict[Key, str], seen: int
) -> Iterator[tuple[CsvRecord, Cursor]]:
    current: tuple[CsvRecord, Cursor] | None = None
    extra = 0  # rows of the current encounter past the limit: counted, not kept

    def finish() -> tuple[CsvRecord, Cursor]:
        nonlocal seen
        assert current is not None
        rec, where = current
        if extra:
            rec.problems.append(
                (
                    "service_lines",
                    f"encounter {rec.encounter_id} has {len(rec.rows) + extra} rows, over the limit of "
                    f"{MAX_ROWS_PER_ENCOUNTER} service lines per encounter",
                )
            )
        if rec.key in split:
            rec.problems.insert(0, ("encounter_id", split[rec.key]))
        check_consistency(rec, header)
        if seen >= MAX_RECORDS:
            raise too_many_records(rec.record_number)
        seen += 1
        return rec, Cursor(where.record, where.offset, where.line, where.column, seen - 1)

    for row in data:
        if row.problem is None and not any(c.strip() for c in row.cells):
            continue  # blank line: no data, not a record (and it does not end an encounter)
        values, problems = _cells(row, header) if row.problem is None else ({h: "" for h in header}, [])
        key = (values["clinic_id"], values["encounter_id"])
        malformed = row.problem is not None or len(row.cells) != len(header) or not all(key)
        if current is not None and not malformed and key == current[0].key and not current[0].malformed:
            if len(current[0].rows) < MAX_ROWS_PER_ENCOUNTER:
                current[0].rows.append((row.number, values))
            else:
                extra += 1
            current[0].problems.extend(problems)
            continue
        if current is not None:
            yield finish()
        extra = 0
        rec = CsvRecord(row.number, [(row.number, values)], encounter_id=key[1] or None, key=key if all(key) else None)
        rec.problems.extend(problems)
        if malformed:
            rec.malformed = True
            if row.problem is not None:
                rec.problems.append(("", row.problem))
            elif len(row.cells) != len(header):
                rec.problems.append(
                    ("", f"row {row.number} has {len(row.cells)} fields but the header has {len(header)}")
                )
            for col in ("clinic_id", "encounter_id"):
                if row.problem is None and not values[col]:
                    rec.problems.append((col, f"row {row.number} has no {col}"))
        current = (rec, row.cursor)
        if malformed:  # a row that cannot be trusted or grouped is a record of its own
            yield finish()
            current = None
    if current is not None:
        yield finish()


@dataclass
class _Seen:
    first: int  # index of the key's first data row (data rows counted without blank ones)
    last: int
    rows: list[int]  # the first rows, as many as a reason shows
    count: int = 0
    groups: int = 0
    malformed: list[int] = field(default_factory=list)
    bad: int = 0  # malformed rows


def split_encounters(open_at: Opener) -> dict[Key, str]:
    """clinic_id + encounter_id -> the reason, for each encounter found in more than one record: its rows
    are not together, or a malformed row carries it. Accepting any one record would bill the encounter
    with only some of its lines (and a corrected resend would then be "already received"), so every
    record with that key is rejected. Keeps ids and row numbers only."""
    header, data = rows(open_at)
    seen: dict[Key, _Seen] = {}
    index = 0
    previous: Key | None = None
    for row in data:
        if row.problem is None and not any(c.strip() for c in row.cells):
            continue
        index += 1
        cells = {
            h: (row.cells[i].strip() if i < len(row.cells) else "")
            for i, h in enumerate(header)
            if h in ("clinic_id", "encounter_id")
        }
        key = (cells.get("clinic_id", ""), cells.get("encounter_id", ""))
        malformed = row.problem is not None or len(row.cells) != len(header) or not all(key)
        if not all(key) or row.problem is not None:
            previous = None
            continue
        entry = seen.get(key)
        if entry is None:
            entry = seen[key] = _Seen(index, index, [])
        new_group = malformed or previous != key
        entry.groups += 1 if new_group else 0
        entry.last = index
        entry.count += 1
        if len(entry.rows) < ROWS_SHOWN:
            entry.rows.append(row.number)
        if malformed:
            entry.bad += 1
            if len(entry.malformed) < ROWS_SHOWN:
                entry.malformed.append(row.number)
        previous = None if malformed else key
    found: dict[Key, str] = {}
    for (cid, eid), entry in seen.items():
        if entry.groups < 2:
            continue
        if len(found) >= MAX_SPLIT_ENCOUNTERS:
            raise FileError(
                f"more than {MAX_SPLIT_ENCOUNTERS} encounters have rows that are not together: the file was not read; "
                "put each encounter's rows together and send it again"
            )
        apart = entry.last - entry.first + 1 > entry.count
        parts = [
            f"encounter {eid[:50]} of clinic {cid[:30]}: {numbers(entry.rows, entry.count)} belong to one encounter"
            + (" but are not together" if apart else "")
        ]
        if entry.bad:
            parts.append(f"{numbers(entry.malformed, entry.bad)} {'is' if entry.bad == 1 else 'are'} malformed")
        parts.append("none of its rows is billed: send the encounter's rows together and complete")
        found[(cid, eid)] = "; ".join(parts)
    return found
