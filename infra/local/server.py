"""`make local`: the whole system on 127.0.0.1 for people, until Ctrl-C.

A moto server (ThreadedMotoServer) in this process, so `aws --endpoint-url` and boto3 work
against it; resources provisioned from infra/config.py; the Lambda bridge in the same process
(the server thread runs moto's backends here, so the patch applies); the SQS poller and the
payer simulator in a background thread; the staff API on its own port.

    MEDBILL_MOTO_PORT (default 5000)   moto endpoint
    MEDBILL_API_PORT  (default 8080)   staff API

Staff sign in against a user pool on moto's Cognito (infra/local/identity.py: the demo users
and their roles and clinics are in the banner); the API server checks their tokens against the
pool's JWKS as API Gateway's Cognito authorizer does.

moto's Step Functions interpreter calls Lambda at http://localhost:$MOTO_PORT, so MOTO_PORT is
set to the server's port before anything starts. Handlers run in-process and reach the server
through AWS_ENDPOINT_URL.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra import config
from infra.local import identity
from infra.local.api_server import ApiServer
from infra.local.console import Console
from infra.local.lambda_bridge import Handler
from infra.local.provision import ensure_aws_environment
from infra.local.runtime import MOTO_CONFIG, LocalRuntime

LOG = logging.getLogger("medbill.local.server")
HOST = "127.0.0.1"


@dataclass
class LocalServer:
    """The moto server, the runtime against it, and the API server. `start()` / `stop()`."""

    moto_port: int = 5000
    api_port: int = 8080
    handlers: Mapping[str, Handler] | None = None  # None: the project's functions/*/handler.py
    timeouts: config.WorkflowTimeouts | None = None
    pump_interval_s: float = 0.5

    def __post_init__(self) -> None:
        self.endpoint_url = f"http://{HOST}:{self.moto_port}"
        self._moto: Any = None
        self.runtime: LocalRuntime | None = None
        self.api: ApiServer | None = None
        self.staff_pool: identity.StaffPool | None = None
        self._saved_env: dict[str, str | None] = {}

    def _setenv(self, key: str, value: str) -> None:
        self._saved_env.setdefault(key, os.environ.get(key))
        os.environ[key] = value

    def start(self) -> LocalServer:
        from moto.server import ThreadedMotoServer

        ensure_aws_environment()
        # Before moto's interpreter reads it: its Lambda calls go to this port.
        self._setenv("MOTO_PORT", str(self.moto_port))
        self._moto = ThreadedMotoServer(ip_address=HOST, port=self.moto_port, verbose=False)
        self._moto.start()
        try:
            req = urllib.request.Request(  # noqa: S310 - our own server on 127.0.0.1
                f"{self.endpoint_url}/moto-api/config",
                data=json.dumps(MOTO_CONFIG).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
                resp.read()
            # In-process handlers create their own boto3 clients: point them at the server.
            self._setenv("AWS_ENDPOINT_URL", self.endpoint_url)
            self.runtime = LocalRuntime(self.handlers, timeouts=self.timeouts, endpoint_url=self.endpoint_url)
            self.runtime.start()
            self.runtime.start_background(self.pump_interval_s)
            self.staff_pool = self._staff_identity()
            verifier = identity.TokenVerifier(identity.fetch_jwks(self.endpoint_url, self.staff_pool), self.staff_pool)
            console = Console(self.endpoint_url, self.staff_pool.client_id, self.staff_pool.region)
            self.api = ApiServer(
                self.runtime.bridge, host=HOST, port=self.api_port, verifier=verifier.claims, console=console
            ).start()
        except BaseException:
            self.stop()
            raise
        return self

    def cognito(self) -> Any:
        import boto3

        return boto3.client("cognito-idp", endpoint_url=self.endpoint_url)

    def _staff_identity(self) -> identity.StaffPool:
        pool = identity.provision(self.cognito())
        identity.add_demo_users(self.cognito(), pool)
        return pool

    def sign_in(self, name: str, password: str = identity.DEMO_PASSWORD) -> str:
        """An ID token for a staff user (tests and scripts; people sign in in the console)."""
        assert self.staff_pool is not None
        return identity.sign_in(self.cognito(), self.staff_pool, name, password)

    @property
    def api_url(self) -> str:
        return self.api.url if self.api else f"http://{HOST}:{self.api_port}"

    def stop(self) -> None:
        if self.api is not None:
            self.api.stop()
            self.api = None
        if self.runtime is not None:
            self.runtime.stop()
            self.runtime = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def banner(self) -> str:
        assert self.runtime is not None
        res = self.runtime.resources
        ep = self.endpoint_url
        # Suggest a real encounter file, not the deliberately broken one.
        samples = sorted(p for p in (config.REPO_ROOT / "events" / "encounters").glob("*.json") if "bad" not in p.name)
        sample = samples[0].name if samples else "northside-2026-11-20.json"
        queues = "\n".join(
            f"    {q.spec.name:<22} consumer {fn:<20} DLQ {q.spec.dlq_name}"
            for q in res.queues.values()
            for fn in [config.FUNCTIONS[q.spec.consumer].function_name]
        )
        prefixes = "\n".join(
            f"    s3://{res.bucket}/{p:<14} {what}"
            for p, what in (
                (config.ENCOUNTERS_PREFIX, "drop encounter files here (-> intake queue)"),
                (config.REJECTIONS_PREFIX, "rejection reports"),
                (config.OUTBOX_837_PREFIX, "837P files for the clearinghouse (the payer simulator answers)"),
                (config.ACK_999_PREFIX, "999 acknowledgements"),
                (config.ACK_277CA_PREFIX, "277CA claim acknowledgements"),
                (config.ERA_PREFIX, "835 ERAs (-> remittance queue)"),
                (config.ERA_REPORTS_PREFIX, "posting reports"),
            )
        )
        users = "\n".join(
            f"    {name:<14} {role:<16} {', '.join(clinics) or 'every clinic'}"
            for name, (role, clinics) in identity.DEMO_USERS.items()
        )
        return f"""
medbill local runtime is up (moto {_moto_version()}).

  AWS endpoint (moto)   {ep}
  staff API             {self.api_url}
  staff console         {self.api_url}/console/   (sign in as one of the staff below)
  state machine         {res.state_machine_arn}
  claims table          {res.claims_table}
  bucket                s3://{res.bucket}
{prefixes}
  queues
{queues}

Upload an encounter file:
    export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION={res.region}
    aws --endpoint-url {ep} s3 cp events/encounters/{sample} s3://{res.bucket}/{config.ENCOUNTERS_PREFIX}{sample}

Watch it:
    aws --endpoint-url {ep} stepfunctions list-executions --state-machine-arn {res.state_machine_arn}
    aws --endpoint-url {ep} s3 ls s3://{res.bucket}/ --recursive

Staff (moto Cognito pool {self.staff_pool.pool_id if self.staff_pool else "?"}, password {identity.DEMO_PASSWORD!r}):
{users}
    TOKEN=$(aws --endpoint-url {ep} cognito-idp initiate-auth --auth-flow USER_PASSWORD_AUTH \
        --client-id {self.staff_pool.client_id if self.staff_pool else "?"} \
        --auth-parameters USERNAME=ada.admin,PASSWORD='{identity.DEMO_PASSWORD}' \
        --query AuthenticationResult.IdToken --output text)
    curl -s -H "Authorization: Bearer $TOKEN" {self.api_url}/claims

Ctrl-C stops everything (state lives in memory only).
"""


def _moto_version() -> str:
    import moto

    return str(getattr(moto, "__version__", "?"))


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("werkzeug", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    server = LocalServer(
        moto_port=int(os.environ.get("MEDBILL_MOTO_PORT", "5000")),
        api_port=int(os.environ.get("MEDBILL_API_PORT", "8080")),
    )
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.start()
    try:
        print(server.banner(), flush=True)
        while not stop.wait(1.0):
            pass
    finally:
        print("\nstopping medbill local runtime ...", flush=True)
        server.stop()


if __name__ == "__main__":
    main()
