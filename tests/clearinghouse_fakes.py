"""In-memory fakes for the clearinghouse exchange's ports (merge into tests/fakes.py later)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from medbill.ports import ClearinghouseError, ObjectReplaced, ObjectStat, ObjectVersion, RemoteFile
from medbill.prefixes import OUTBOX_PREFIXES


@dataclass
class FakeClearinghouse:
    """A mailbox: `inbound` (what we sent), `outbound` (answers: name -> (body, mtime)), `archive`.

    `on_list` runs before each listing (a test grows a file between the two listings with it);
    `fail_archive` / `fail_read` name files whose operation raises ClearinghouseError once.
    """

    inbound: dict[str, bytes] = field(default_factory=dict)
    outbound: dict[str, tuple[bytes, int]] = field(default_factory=dict)
    archive_dir: dict[str, bytes] = field(default_factory=dict)
    writing: set[str] = field(default_factory=set)  # names being written (listed as .part)
    on_list: Callable[[FakeClearinghouse], None] | None = None
    fail_archive: set[str] = field(default_factory=set)
    fail_read: set[str] = field(default_factory=set)
    puts: list[str] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)  # every operation in order: "read:x", "archive:x"

    def drop(self, name: str, body: bytes | str, mtime: int = 1_700_000_000) -> None:
        self.outbound[name] = (body.encode() if isinstance(body, str) else body, mtime)

    def send(self, name: str, body: bytes) -> bool:
        self.log.append(f"send:{name}")
        if name in self.inbound and len(self.inbound[name]) == len(body):
            return False
        self.puts.append(name)
        self.inbound[name] = body
        return True

    def answers(self) -> Sequence[RemoteFile]:
        if self.on_list is not None:
            self.on_list(self)
        return [
            RemoteFile(name, len(body), mtime)
            for name, (body, mtime) in sorted(self.outbound.items())
            if name not in self.writing
        ]

    def read(self, file: RemoteFile) -> bytes:
        self.log.append(f"read:{file.name}")
        if file.name in self.fail_read:
            self.fail_read.discard(file.name)
            raise ClearinghouseError(f"cannot read {file.name}")
        self.reads.append(file.name)
        return self.outbound[file.name][0]

    def archive(self, file: RemoteFile) -> None:
        self.log.append(f"archive:{file.name}")
        if file.name in self.fail_archive:
            self.fail_archive.discard(file.name)
            raise ClearinghouseError(f"cannot archive {file.name}")
        if file.name in self.outbound:
            self.archive_dir[file.name] = self.outbound.pop(file.name)[0]


@dataclass
class FakeArtifacts:
    objects: dict[str, bytes] = field(default_factory=dict)
    writes: list[str] = field(default_factory=list)
    on_write: Callable[[str], None] | None = None  # raise in it to simulate a crash

    def read(self, key: str) -> bytes:
        return self.objects[key]

    def write(self, key: str, body: bytes | str, content_type: str = "application/octet-stream") -> None:
        if self.on_write is not None:
            self.on_write(key)
        self.objects[key] = body.encode() if isinstance(body, str) else body
        self.writes.append(key)

    def write_json(self, key: str, document: dict[str, Any]) -> None:
        self.write(key, json.dumps(document, sort_keys=True), "application/json")

    def stat(self, key: str) -> ObjectStat:
        body = self.objects[key]
        return ObjectStat(len(body), ObjectVersion(hashlib.md5(body, usedforsecurity=False).hexdigest()))

    def open(self, key: str, start: int = 0, version: ObjectVersion | None = None) -> Iterator[bytes]:
        if version is not None and self.stat(key).version != version:
            raise ObjectReplaced(key)
        yield self.objects[key][start:]

    def listed(self, prefix: str = "") -> list[str]:
        return sorted(k for k in self.objects if k.startswith(prefix))


@dataclass
class FakeLedger:
    records: dict[str, dict[str, Any]] = field(default_factory=dict)

    def get(self, key: str) -> dict[str, Any] | None:
        return self.records.get(key)

    def put_if_absent(self, key: str, record: dict[str, Any]) -> bool:
        if key in self.records:
            return False
        self.records[key] = dict(record)
        return True

    def recorded(self, prefix: str) -> set[str]:
        return {k for k in self.records if k.startswith(prefix)}


@dataclass
class FakeOutbox:
    artifacts: FakeArtifacts
    prefixes: tuple[str, ...] = OUTBOX_PREFIXES

    def waiting(self) -> Sequence[str]:
        return [key for prefix in self.prefixes for key in self.artifacts.listed(prefix)]
