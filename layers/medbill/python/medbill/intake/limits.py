"""The limits of one encounter file (docs/encounter-format.md, "Limits"), checked before the work they
bound: the file's size before it is read, a record's size before it is parsed, a value's length before
it is validated. Over a limit, the report names the limit, never a value."""

from __future__ import annotations

MIB = 1024 * 1024
# JSON, JSON Lines and CSV are read as a stream: the size only bounds the time to read the file.
MAX_FILE_BYTES = 100 * MIB
# HL7 v2 and FHIR files are read whole (their readers need the message / Bundle at once).
MAX_EHR_FILE_BYTES = 10 * MIB
MAX_RECORDS = 100_000  # encounters per file (JSON records, JSON Lines, CSV encounters)
MAX_RECORD_BYTES = 256 * 1024  # one JSON record, one JSON line, one CSV row
MAX_FIELD_CHARS = 1_000  # one JSON string or CSV cell (the longest encounter field is 80)
MAX_ROWS_PER_ENCOUNTER = 50  # CSV rows of one encounter: its service lines (the model's maximum)
MAX_SPLIT_ENCOUNTERS = 100  # CSV encounters whose rows are not together, per file
READ_CHUNK_BYTES = 1 * MIB  # what a reader holds of the file at once (plus one record)


def size_text(n: int) -> str:
    """1,048,576 -> "1 MiB"; the limits are round numbers of KiB or MiB."""
    if n >= MIB and n % MIB == 0:
        return f"{n // MIB:,} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024:,} KiB"
    return f"{n:,} bytes"


def file_too_large(size: int, limit: int = MAX_FILE_BYTES) -> str:
    return (
        f"the file is {size:,} bytes, over the limit of {size_text(limit)} per file: it was not read; "
        "split it into smaller files and send them again"
    )
