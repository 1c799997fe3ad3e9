"""The clearinghouse exchange: its batch mailbox (SFTP), the ledger of files that crossed, and the
outboxes waiting to be sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class RemoteFile:
    """A file in the clearinghouse's outbound folder, as a listing shows it (name, bytes, mtime)."""

    name: str
    size: int
    modified: int  # seconds since the epoch, as the server reports it

    @property
    def identity(self) -> str:
        """Name + size + mtime: the same file listed twice has the same identity."""
        return f"{self.name}|{self.size}|{self.modified}"


class Clearinghouse(Protocol):
    """The clearinghouse's batch mailbox (SFTP at Availity, Office Ally, Claim.MD, Waystar...):
    claims go into its inbound folder; answers (999, 277CA, 277, 271, 835) wait in its outbound
    folder until we archive them. Raises `ClearinghouseError` when the server cannot be reached."""

    def send(self, name: str, body: bytes) -> bool:
        """Put `body` as inbound/`name`, written under a temporary name and renamed, so the
        clearinghouse never sees a partial file. False (nothing written) when inbound/`name` is
        there already with the same size: a retry after a crash does not make a second file."""
        ...

    def answers(self) -> Sequence[RemoteFile]:
        """Finished files in the outbound folder (names ending .tmp/.part/.filepart, or starting
        with a dot, are still being written and are left out)."""
        ...

    def read(self, file: RemoteFile) -> bytes: ...

    def archive(self, file: RemoteFile) -> None:
        """Move the file out of the outbound folder into the archive folder; a file already moved
        is not an error."""
        ...


class ClearinghouseError(Exception):
    """The clearinghouse could not be reached, refused us, or failed an operation (no PHI: names only)."""


class ClearinghouseUnavailable(ClearinghouseError):
    """Cannot connect, credentials refused, or the server's host key is not the one we trust: the
    run stops (every other file would fail the same way) and the next scheduled run tries again."""


class ExchangeLedger(Protocol):
    """Which files crossed to or from the clearinghouse: one record per key, written once."""

    def get(self, key: str) -> dict[str, Any] | None: ...

    def put_if_absent(self, key: str, record: dict[str, Any]) -> bool:
        """Store `record` under `key` unless a record is there; True if this call stored it."""
        ...

    def recorded(self, prefix: str) -> set[str]:
        """The keys recorded under `prefix` (one listing, not a read per key)."""
        ...


class Outbox(Protocol):
    """The files waiting in the bucket's outboxes (837P, 270, 276: keys, outbox by outbox, in order)."""

    def waiting(self) -> Sequence[str]: ...
