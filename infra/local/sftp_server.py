"""A real SFTP server on 127.0.0.1 playing the clearinghouse (asyncssh's SFTP server).

    with LocalSftpServer() as server:          # a temp root with inbound/ outbound/ archive/
        server.secret()                        # the JSON the clearinghouse function reads
        server.drop("era-1.835", text)         # the clearinghouse leaves an answer (atomically)
        server.files("inbound")                # what we sent

The server runs its own event loop in a daemon thread. Its host key (ed25519) is generated per
instance unless one is given, and the secret carries its public half, which the adapter trusts and
nothing else. Clients log in with the generated password or the generated client key (both in the
secret; the key is the production-like path). Each session is chrooted into the root directory.
Run it alone with `python -m infra.local.sftp_server [root]`: it prints the secret and serves until
Ctrl-C, so a person can play the clearinghouse with their own files and an `sftp` client.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Any

import asyncssh

LOG = logging.getLogger("medbill.local.sftp_server")
logging.getLogger("asyncssh").setLevel(logging.WARNING)  # asyncssh logs every SFTP request at INFO
FOLDERS = ("inbound", "outbound", "archive")
HOST = "127.0.0.1"


class _Server(asyncssh.SSHServer):
    def __init__(self, username: str, password: str) -> None:
        self._username = username
        self._password = password

    def begin_auth(self, username: str) -> bool:
        return True  # always authenticate (password or key below)

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return secrets.compare_digest(username, self._username) and secrets.compare_digest(password, self._password)


class LocalSftpServer:
    """See the module docstring. `port=0` takes a free port."""

    def __init__(
        self,
        root: Path | str | None = None,
        *,
        port: int = 0,
        username: str = "medbill",
        password: str | None = None,
        host_key: asyncssh.SSHKey | None = None,
    ) -> None:
        self._own_root = root is None
        self.root = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="medbill-sftp-"))
        self.requested_port = port
        self.port = 0
        self.username = username
        self.password = password or secrets.token_urlsafe(18)
        self.host_key = host_key or asyncssh.generate_private_key("ssh-ed25519")
        self.client_key = asyncssh.generate_private_key("ssh-ed25519")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._acceptor: asyncssh.SSHAcceptor | None = None

    # --- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> LocalSftpServer:
        for folder in FOLDERS:
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="medbill-sftp-server", daemon=True)
        self._thread.start()
        started: Future[asyncssh.SSHAcceptor] = asyncio.run_coroutine_threadsafe(self._listen(), loop)
        self._acceptor = started.result(timeout=30)
        self.port = int(self._acceptor.sockets[0].getsockname()[1])
        LOG.info("SFTP clearinghouse listening on %s:%s, root %s", HOST, self.port, self.root)
        return self

    async def _listen(self) -> asyncssh.SSHAcceptor:
        authorized = asyncssh.import_authorized_keys(self.client_key.export_public_key().decode())
        return await asyncssh.listen(
            HOST,
            self.requested_port,
            server_factory=functools.partial(_Server, self.username, self.password),
            server_host_keys=[self.host_key],
            authorized_client_keys=authorized,
            sftp_factory=functools.partial(asyncssh.SFTPServer, chroot=str(self.root).encode()),
            allow_scp=False,
            process_factory=None,
            config=None,
        )

    def stop(self) -> None:
        loop, self._loop = self._loop, None
        if loop is not None:
            if self._acceptor is not None:

                async def _close(acceptor: asyncssh.SSHAcceptor) -> None:
                    acceptor.close()
                    await acceptor.wait_closed()

                with contextlib.suppress(Exception):
                    asyncio.run_coroutine_threadsafe(_close(self._acceptor), loop).result(timeout=10)
            loop.call_soon_threadsafe(loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=10)
            loop.close()
        self._acceptor = None
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LocalSftpServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- what the clearinghouse function reads -------------------------------------------------------
    def public_host_key(self) -> str:
        return self.host_key.export_public_key().decode().strip()

    def secret(self, *, use_key: bool = True) -> dict[str, Any]:
        """The Secrets Manager secret's fields for this server (adapters.sftp.SftpSecret)."""
        secret: dict[str, Any] = {
            "host": HOST,
            "port": self.port,
            "username": self.username,
            "host_key": f"[{HOST}]:{self.port} {self.public_host_key()}",
            "inbound": "inbound",
            "outbound": "outbound",
            "archive": "archive",
        }
        if use_key:
            secret["private_key"] = self.client_key.export_private_key().decode()
        else:
            secret["password"] = self.password
        return secret

    # --- the clearinghouse's side of the folders ------------------------------------------------------
    def drop(self, name: str, body: bytes | str, *, mtime: float | None = None) -> Path:
        """Leave an answer in outbound/, written as `<name>.part` and renamed (never seen partial)."""
        data = body.encode() if isinstance(body, str) else body
        final = self.root / "outbound" / name
        partial = final.with_name(name + ".part")
        partial.write_bytes(data)
        partial.replace(final)
        if mtime is not None:
            os.utime(final, (mtime, mtime))
        return final

    def files(self, folder: str) -> list[str]:
        """Finished files (no .tmp/.part) in `folder`, by name."""
        path = self.root / folder
        return sorted(
            p.name for p in path.iterdir() if p.is_file() and not p.name.endswith((".tmp", ".part", ".filepart"))
        )

    def read(self, folder: str, name: str) -> bytes:
        return (self.root / folder / name).read_bytes()


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    root = Path(argv[0]) if argv else None
    with LocalSftpServer(root, port=int(argv[1]) if len(argv) > 1 else 0) as server:
        print(json.dumps(server.secret(use_key=False), indent=2))
        print(f"sftp -P {server.port} {server.username}@{HOST}   (root: {server.root}); Ctrl-C stops", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
