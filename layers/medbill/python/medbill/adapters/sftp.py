"""The clearinghouse over SFTP (asyncssh), the way Availity, Office Ally, Claim.MD and Waystar take
batch files: 837Ps into their inbound folder, answers from their outbound folder.

The connection details live in one Secrets Manager secret (JSON, `SftpSecret`), read once per cold
start by `load_secret`. The server's host key comes from the secret and is the only key accepted:
there is no trust-on-first-use and no known_hosts file from the environment; a server showing
another key is refused (`ClearinghouseUnavailable`). The port is synchronous, so the adapter runs
asyncssh on an event loop of its own; the connection is opened on first use and closed by `close()`
at the end of each invocation.

Conventions: we write `name.tmp` then rename it to `name` (posix-rename where the server supports
it), so the clearinghouse never reads a partial 837P; answers whose names end `.tmp`, `.part` or
`.filepart`, or start with a dot, are still being written and are not listed (the use case also
waits for a stable size and mtime across two listings). Archiving is a rename into the archive
folder, after the use case has the copy. Errors name the operation and the file, never contents.
"""

from __future__ import annotations

import asyncio
import json
import posixpath
import stat
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

import asyncssh
import boto3
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from medbill.ports import ClearinghouseError, ClearinghouseUnavailable, RemoteFile

T = TypeVar("T")
PARTIAL_SUFFIXES = (".tmp", ".part", ".filepart")
CONNECT_TIMEOUT_SECONDS = 20


class SftpSecret(BaseModel):
    """The secret's JSON. `host_key`: the server's public key, `ssh-ed25519 AAAA...` or a
    known_hosts line (`host ssh-ed25519 AAAA...`). One of `password` / `private_key` (OpenSSH PEM)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    host: str = Field(min_length=1)
    port: int = Field(default=22, ge=1, le=65535)
    username: str = Field(min_length=1)
    password: str | None = None
    private_key: str | None = None
    private_key_passphrase: str | None = None
    host_key: str = Field(min_length=1)
    inbound: str = "inbound"  # where we put 837Ps
    outbound: str = "outbound"  # where the clearinghouse leaves answers
    archive: str = "archive"  # where fetched answers go once copied

    @model_validator(mode="after")
    def _one_credential(self) -> SftpSecret:
        if not self.password and not self.private_key:
            raise ValueError("the secret needs a password or a private_key")
        return self

    def trusted_host_key(self) -> asyncssh.SSHKey:
        fields = self.host_key.split()
        start = 0 if fields and _is_key_type(fields[0]) else 1  # skip a known_hosts host pattern
        try:
            return asyncssh.import_public_key(" ".join(fields[start : start + 2]))
        except (asyncssh.KeyImportError, ValueError):
            raise ClearinghouseUnavailable("the secret's host_key is not an SSH public key") from None

    @classmethod
    def parse(cls, text: str) -> SftpSecret:
        try:
            return cls.model_validate_json(text)
        except ValidationError as err:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) or e["msg"] for e in err.errors(include_input=False))
            raise ClearinghouseUnavailable(f"clearinghouse secret not usable: {fields}") from None


def _is_key_type(token: str) -> bool:
    return token.startswith(("ssh-", "ecdsa-", "sk-", "rsa-"))


def load_secret(secret_id: str, client: Any | None = None) -> SftpSecret:
    """The clearinghouse secret from Secrets Manager (once per cold start: the wiring caches it)."""
    sm = client or boto3.client("secretsmanager")
    return SftpSecret.parse(sm.get_secret_value(SecretId=secret_id)["SecretString"])


class SftpClearinghouse:
    """`medbill.ports.Clearinghouse` over SFTP."""

    def __init__(self, secret: SftpSecret, *, connect_timeout: float = CONNECT_TIMEOUT_SECONDS) -> None:
        self.secret = secret
        self._timeout = connect_timeout
        self._loop = asyncio.new_event_loop()
        self._conn: asyncssh.SSHClientConnection | None = None
        self._sftp: asyncssh.SFTPClient | None = None

    # --- plumbing ---------------------------------------------------------------------------------
    def _run(self, what: str, coro: Awaitable[T]) -> T:
        try:
            return self._loop.run_until_complete(coro)
        except ClearinghouseError:
            raise
        except (asyncssh.DisconnectError, asyncssh.ConnectionLost, ConnectionError, TimeoutError) as err:
            self._forget()
            raise ClearinghouseUnavailable(f"{what}: connection lost ({type(err).__name__})") from None
        except (asyncssh.Error, asyncssh.SFTPError, OSError) as err:
            raise ClearinghouseError(f"{what}: {type(err).__name__}") from None

    async def _client(self) -> asyncssh.SFTPClient:
        if self._sftp is not None:
            return self._sftp
        s = self.secret
        try:
            keys = [asyncssh.import_private_key(s.private_key, s.private_key_passphrase)] if s.private_key else None
        except (asyncssh.KeyImportError, ValueError):
            raise ClearinghouseUnavailable("the secret's private_key is not usable") from None
        try:
            self._conn = await asyncio.wait_for(
                asyncssh.connect(
                    s.host,
                    s.port,
                    username=s.username,
                    password=s.password,
                    client_keys=keys,
                    known_hosts=([s.trusted_host_key()], [], []),  # only the secret's key, never TOFU
                    agent_path=None,
                    config=None,  # no ~/.ssh/config from the environment
                ),
                timeout=self._timeout,
            )
            self._sftp = await self._conn.start_sftp_client()
        except asyncssh.HostKeyNotVerifiable:
            self._forget()
            raise ClearinghouseUnavailable("clearinghouse host key does not match the secret: refused") from None
        except asyncssh.PermissionDenied:
            self._forget()
            raise ClearinghouseUnavailable("clearinghouse refused our credentials") from None
        except (OSError, TimeoutError, asyncssh.Error) as err:
            self._forget()
            raise ClearinghouseUnavailable(f"cannot connect to the clearinghouse ({type(err).__name__})") from None
        return self._sftp

    def _forget(self) -> None:
        if self._conn is not None:
            self._conn.abort()
        self._conn = None
        self._sftp = None

    def close(self) -> None:
        """Close the connection (the next call opens a new one)."""
        conn = self._conn
        self._sftp = None
        self._conn = None
        if conn is not None:
            conn.close()
            self._loop.run_until_complete(conn.wait_closed())

    def _path(self, folder: str, name: str) -> str:
        if "/" in name or name in {"", ".", ".."}:
            raise ClearinghouseError(f"not a plain file name: {name!r}")
        return posixpath.join(folder, name)

    # --- the port ---------------------------------------------------------------------------------
    def send(self, name: str, body: bytes) -> bool:
        return self._run(f"send {name}", self._send(name, body))

    async def _send(self, name: str, body: bytes) -> bool:
        sftp = await self._client()
        final = self._path(self.secret.inbound, name)
        try:
            if (await sftp.stat(final)).size == len(body):
                return False  # put by an earlier run whose record did not land
        except asyncssh.SFTPNoSuchFile:
            pass
        temporary = final + ".tmp"
        async with sftp.open(temporary, "wb", encoding=None) as f:  # truncates a stale .tmp of a crashed run
            await f.write(body)
        try:
            await sftp.posix_rename(temporary, final)  # replaces atomically (OpenSSH extension)
        except asyncssh.SFTPOpUnsupported:
            await sftp.rename(temporary, final)
        return True

    def answers(self) -> Sequence[RemoteFile]:
        return self._run("list answers", self._answers())

    async def _answers(self) -> list[RemoteFile]:
        sftp = await self._client()
        files = []
        for entry in await sftp.readdir(self.secret.outbound):
            name = str(entry.filename)
            attrs = entry.attrs
            if name.startswith(".") or name.endswith(PARTIAL_SUFFIXES):
                continue
            if attrs.permissions is not None and not stat.S_ISREG(attrs.permissions):
                continue
            files.append(RemoteFile(name=name, size=int(attrs.size or 0), modified=int(attrs.mtime or 0)))
        return sorted(files, key=lambda f: f.name)

    def read(self, file: RemoteFile) -> bytes:
        return self._run(f"read {file.name}", self._read(file))

    async def _read(self, file: RemoteFile) -> bytes:
        sftp = await self._client()
        async with sftp.open(self._path(self.secret.outbound, file.name), "rb", encoding=None) as f:
            data = await f.read()
        return data if isinstance(data, bytes) else data.encode()

    def archive(self, file: RemoteFile) -> None:
        self._run(f"archive {file.name}", self._archive(file))

    async def _archive(self, file: RemoteFile) -> None:
        sftp = await self._client()
        source = self._path(self.secret.outbound, file.name)
        target = self._path(self.secret.archive, file.name)
        if await sftp.exists(target):  # a name the clearinghouse used before
            target = self._path(self.secret.archive, f"{file.name}.{file.modified}-{file.size}")
        try:
            await sftp.rename(source, target)
        except asyncssh.SFTPNoSuchFile:
            return  # archived by an earlier run
        except asyncssh.SFTPFailure:
            if not await sftp.exists(source):
                return
            raise


def secret_json(**fields: Any) -> str:
    """A secret's JSON from keyword fields (the local runtime and tests build theirs with it)."""
    return json.dumps(fields)
