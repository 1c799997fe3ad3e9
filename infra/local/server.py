"""`make local`: the whole system on 127.0.0.1 for people, until Ctrl-C.

A moto server (ThreadedMotoServer) in this process, so `aws --endpoint-url` and boto3 work
against it; resources provisioned from infra.config; the Lambda bridge in the same process
(the server thread runs moto's backends here, so the patch applies); the SQS poller and the
payer simulator in a background thread; the staff API on its own port.

    MEDBILL_MOTO_PORT (default 5000)   moto endpoint
    MEDBILL_API_PORT  (default 8080)   staff API
    --verbose / MEDBILL_LOCAL_VERBOSE=1  the handlers' Powertools JSON logs and EMF metrics, as in Lambda
    --no-payer / MEDBILL_LOCAL_PAYER=0   the SFTP clearinghouse with nobody behind it: you drop the
                                         999 / 277CA / 835 / 277 files (the banner says where)
    MEDBILL_LOCAL_DATA=<folder>          your fee schedules, payers and members, added to the
                                         packaged ones (infra/local/user_data.py)

Quiet by default: one progress line per encounter file, claim step and ERA (`ProgressHandler`),
warnings and errors, and the staff API's request lines. Ctrl-C stops within `STOP_GRACE_S`: the
state lives in memory only, so whatever is still running is abandoned, not drained.

Staff sign in against a user pool on moto's Cognito (infra/local/identity.py: the demo users
and their roles and clinics are in the banner); the API server checks their tokens against the
pool's JWKS as API Gateway's Cognito authorizer does.

moto's Step Functions interpreter calls Lambda at http://localhost:$MOTO_PORT, so MOTO_PORT is
set to the server's port before anything starts. Handlers run in-process and reach the server
through AWS_ENDPOINT_URL.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
import urllib.request
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from infra import config
from infra.local import identity
from infra.local.api_server import ApiServer
from infra.local.console import Console
from infra.local.lambda_bridge import Handler
from infra.local.provision import ensure_aws_environment
from infra.local.runtime import MOTO_CONFIG, LocalRuntime
from infra.local.user_data import LOCAL_DATA_ENV, UserData, UserDataError, from_environment
from medbill.entry import wiring

LOG = logging.getLogger("medbill.local.server")
HOST = "127.0.0.1"
# The status_inquiry schedule, locally: every minute (nothing is due before a payer's
# status_ack_hours; MEDBILL_PAYER_POLICIES can shorten them, README).
STATUS_INQUIRY_EVERY_S = 60.0
STOP_GRACE_S = 1.0  # Ctrl-C -> exit, at most this plus a flush and the signal poll (0.2 s)

# Waits for people: a hold waits a day for someone to fix the claim and POST .../recheck (after
# that the claim goes to FOLLOW_UP and a recheck answers 409 "not on hold"); the payer simulator
# answers 837Ps within seconds, so a remittance wait of 10 minutes only ends claims it ignores.
INTERACTIVE_TIMEOUTS = config.WorkflowTimeouts(
    remittance_wait_seconds=600, staff_hold_seconds=24 * 3600, retry_interval_seconds=1
)

# Progress: which field names the subject of a handler's log line, in order of preference.
SUBJECT_KEYS = ("claim_id", "source_key", "era_id", "key")
DETAIL_KEYS = (
    "decision",
    "reason_count",
    "patient_id",
    "total_charge",
    "interchange_control_number",
    "wait",
    "outcome",
    "status",
    "action",
    "records",
    "claims_created",
    "rejected",
    "claims_queued",
    "quarantined",
    "result",
    "problem_count",
)


class ProgressHandler(logging.Handler):
    """One short line per handler log record: time, stage, claim/file/ERA, what happened.

    Formats with the Powertools formatter first (so keys appended with `append_keys`, such as the
    claim id, are there) and prints ids, codes and counts only - the same keys the JSON carries.
    """

    def __init__(self, powertools_formatter: logging.Formatter | None, stream: Any = None) -> None:
        super().__init__(logging.INFO)
        self.powertools_formatter = powertools_formatter
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields: dict[str, Any] = {}
            if self.powertools_formatter is not None:
                fields = json.loads(self.powertools_formatter.format(record))
            print(progress_line(record, fields), file=self.stream or sys.stdout, flush=True)
        except Exception:  # a progress line must never break a handler
            self.handleError(record)


def progress_line(record: logging.LogRecord, fields: Mapping[str, Any]) -> str:
    stage = str(fields.get("service", record.name)).removeprefix(f"{config.PROJECT}-")
    subject = next((str(fields[k]) for k in SUBJECT_KEYS if fields.get(k) not in (None, "")), "")
    details = " ".join(f"{k}={fields[k]}" for k in DETAIL_KEYS if k in fields and fields[k] not in (None, ""))
    level = "" if record.levelno < logging.WARNING else f"{record.levelname} "
    clock = time.strftime("%H:%M:%S", time.localtime(record.created))
    return f"{clock} {stage:<12} {subject:<20} {level}{record.getMessage()}" + (f"  ({details})" if details else "")


def quiet_handler_logs(bridge: Any) -> None:
    """Replace each handler's Powertools JSON output with progress lines, as handlers load, and drop
    the EMF metric blobs and Powertools' "No application metrics to publish" warnings."""
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    resolver: Callable[[str], Any] | None = bridge.resolver
    if resolver is None:
        return

    def resolve(function_name: str) -> Any:
        handler = resolver(function_name)
        powertools_logger = logging.getLogger(function_name)  # Powertools names it after the service
        if not any(isinstance(h, ProgressHandler) for h in powertools_logger.handlers):
            formatter = powertools_logger.handlers[0].formatter if powertools_logger.handlers else None
            for h in powertools_logger.handlers:
                h.setLevel(logging.CRITICAL + 1)
            powertools_logger.addHandler(ProgressHandler(formatter))
        return handler

    bridge.resolver = resolve


@dataclass
class LocalServer:
    """The moto server, the runtime against it, and the API server. `start()` / `stop()`."""

    moto_port: int = 5000
    api_port: int = 8080
    handlers: Mapping[str, Handler] | None = None  # None: the project's functions/*/handler.py
    timeouts: config.WorkflowTimeouts | None = None
    pump_interval_s: float = 0.5
    quiet: bool = False  # progress lines instead of the handlers' JSON logs (see ProgressHandler)
    payer: bool = True  # False: nobody behind the SFTP clearinghouse; a person drops the answers
    user_data: UserData | None = None  # MEDBILL_LOCAL_DATA: fee schedules, payers, members added
    status_inquiry_every_s: float | None = STATUS_INQUIRY_EVERY_S

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
        # moto's Cognito checks TOTP codes (MFA is required, as in AWS): identity.py.
        self._setenv(identity.TOTP_ENV, "true")
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
            wiring.reset()  # adapters cached by an earlier server in this process point at its port
            self.runtime = LocalRuntime(
                self.handlers,
                timeouts=self.timeouts,
                endpoint_url=self.endpoint_url,
                payer=self.payer,
                user_data=self.user_data,
                status_inquiry_every_s=self.status_inquiry_every_s,
            )
            if self.quiet:
                quiet_handler_logs(self.runtime.bridge)
            self.runtime.start()
            self.runtime.start_background(self.pump_interval_s)
            self.staff_pool = self._staff_identity()
            verifier = identity.TokenVerifier(identity.fetch_jwks(self.endpoint_url, self.staff_pool), self.staff_pool)
            console = Console(
                self.endpoint_url,
                self.staff_pool.client_id,
                self.staff_pool.region,
                self.staff_pool.pool_id,
                upload_origin=self.endpoint_url,
            )
            self._allow_console_uploads()
            self.api = ApiServer(
                self.runtime.bridge, host=HOST, port=self.api_port, verifier=verifier.claims, console=console
            ).start()
        except BaseException:
            self.stop()
            raise
        return self

    def _allow_console_uploads(self) -> None:
        """The data bucket's CORS: the console's origin may POST a presigned upload (as in CDK).
        moto's server answers CORS for any origin itself (and sends no CORS headers on a POST
        upload's answer), so locally this rule is stored, not enforced: tests/infra checks the
        CDK rule, and tests/e2e the upload through it."""
        import boto3

        assert self.runtime is not None
        s3 = boto3.client("s3", endpoint_url=self.endpoint_url)
        origin = f"http://{HOST}:{self.api_port}"
        rules = [{**rule, "AllowedOrigins": [origin]} for rule in config.CONSOLE_UPLOAD_CORS]
        s3.put_bucket_cors(Bucket=self.runtime.resources.bucket, CORSConfiguration={"CORSRules": rules})  # type: ignore[typeddict-item]

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
            # moto's backends live in this process: a server that stops leaves nothing behind for the
            # next one (a second `LocalServer` in the same process would find its tables existing).
            with contextlib.suppress(OSError):
                reset = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")  # noqa: S310
                with urllib.request.urlopen(reset, timeout=10) as resp:  # noqa: S310 - our own server on 127.0.0.1
                    resp.read()
            self._moto.stop()
            self._moto = None
            wiring.reset()
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
            for fn in [config.LOCAL_FUNCTIONS[q.spec.consumer].function_name]
        )
        prefixes = "\n".join(
            f"    s3://{res.bucket}/{p:<14} {what}"
            for p, what in (
                (config.ENCOUNTERS_PREFIX, "drop encounter files here (-> intake queue)"),
                (config.REJECTIONS_PREFIX, "rejection reports"),
                (config.OUTBOX_837_PREFIX, "837P files for the clearinghouse (sent over SFTP)"),
                (config.OUTBOX_276_PREFIX, "276 claim status inquiries (sent over SFTP)"),
                (config.ACK_999_PREFIX, "999 acknowledgements (-> acks queue)"),
                (config.ACK_277CA_PREFIX, "277CA claim acknowledgements (-> acks queue)"),
                (config.STATUS_277_PREFIX, "277 claim status answers (-> acks queue)"),
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
    The console signs in with SRP + TOTP: the first sign-in shows the authenticator key
    ({identity.LOCAL_TOTP_SECRET}, moto's one key for everybody). For curl, a user who has not enrolled yet:
    TOKEN=$(aws --endpoint-url {ep} cognito-idp initiate-auth --auth-flow USER_PASSWORD_AUTH \
        --client-id {self.staff_pool.client_id if self.staff_pool else "?"} \
        --auth-parameters USERNAME=ada.admin,PASSWORD='{identity.DEMO_PASSWORD}' \
        --query AuthenticationResult.IdToken --output text)
    curl -s -H "Authorization: Bearer $TOKEN" {self.api_url}/claims
    curl -s -H "Authorization: Bearer $TOKEN" '{self.api_url}/claims?status=PAID'
    curl -s -H "Authorization: Bearer $TOKEN" '{self.api_url}/claims?status=ELIGIBILITY_HOLD'
    # then GET /claims/<id>, POST /claims/<id>/recheck

{self._clearinghouse_text()}
Waits: {self._payer_wait()} A hold waits {self._hold_wait()} for a recheck; after that
the claim goes to FOLLOW_UP and a recheck answers 409 (not on hold).

Ctrl-C stops everything in under 2 s (state lives in memory only).
"""

    def _payer_wait(self) -> str:
        if self.payer:
            return (
                "the payer simulator answers each 837P within seconds, so claims move on to PAID, "
                "FOLLOW_UP\n(denied, short-paid) or stay on a hold."
            )
        return "nobody answers 837Ps but you: claims wait in AWAITING_REMITTANCE for your files."

    def _clearinghouse_text(self) -> str:
        assert self.runtime is not None
        ch = self.runtime.simulator
        data = self.user_data
        mine = ""
        if data is not None:
            mine = (
                f"\nYour data ({LOCAL_DATA_ENV}): fee schedules for {', '.join(data.added_clinics) or 'no new clinic'};"
                f" payers added {', '.join(data.added_payers) or 'none'} (merged with the packaged ones).\n"
            )
        if ch is None:
            return mine
        secret = ch.server.secret(use_key=False)
        who = "the payer simulator answers" if self.payer else "YOU play the clearinghouse (MEDBILL_LOCAL_PAYER=0)"
        drop = (
            ""
            if self.payer
            else f"""
  Our 837Ps and 276s wait in inbound/ ({ch.server.root / "inbound"}). Put your 999 / 277CA / 835 / 277
  files in outbound/: they are fetched once each and routed by content (ST01, GS08), e.g.
    sftp -P {secret["port"]} {secret["username"]}@{secret["host"]}     (password {secret["password"]})
    sftp> put my-answer.835 outbound/my-answer.835
  or straight into the bucket, skipping SFTP:
    aws --endpoint-url {self.endpoint_url} s3 cp my.999 s3://{self.runtime.resources.bucket}/{config.ACK_999_PREFIX}my.999
"""
        )
        return f"""{mine}
Clearinghouse: a real SFTP server on {secret["host"]}:{secret["port"]} ({who}); folders inbound/,
outbound/, archive/ under {ch.server.root}. The exchange runs every pump.{drop}"""

    def _hold_wait(self) -> str:
        seconds = (self.timeouts or config.WorkflowTimeouts.local()).staff_hold_seconds
        return f"{seconds // 3600} h" if seconds >= 3600 else f"{seconds // 60} min"


def _user_data() -> UserData | None:
    try:
        return from_environment()
    except UserDataError as err:  # names the file and the problem, then stops
        print(f"make local: {err}", file=sys.stderr)
        sys.exit(2)


def _moto_version() -> str:
    import moto

    return str(getattr(moto, "__version__", "?"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="make local", description="medbill on 127.0.0.1 until Ctrl-C")
    parser.add_argument(
        "--verbose",
        action="store_true",
        default=os.environ.get("MEDBILL_LOCAL_VERBOSE", "") not in ("", "0"),
        help="print the handlers' Powertools JSON logs and metrics (default: one progress line per step)",
    )
    parser.add_argument(
        "--no-payer",
        action="store_true",
        default=os.environ.get("MEDBILL_LOCAL_PAYER", "1") in ("0", "off", "no", "false"),
        help="run the SFTP clearinghouse with no payer simulator behind it: you drop 999 / 277CA / 835 / 277 files",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("werkzeug", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    server = LocalServer(
        moto_port=int(os.environ.get("MEDBILL_MOTO_PORT", "5000")),
        api_port=int(os.environ.get("MEDBILL_API_PORT", "8080")),
        timeouts=INTERACTIVE_TIMEOUTS,
        quiet=not args.verbose,
        payer=not args.no_payer,
        user_data=_user_data(),
    )
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.start()
    print(server.banner(), flush=True)
    while not stop.wait(0.2):
        pass
    print("\nstopping medbill local runtime ...", flush=True)
    # Stop what stops quickly; a handler still running (a pump pass, an execution thread) is
    # abandoned: nothing is persisted, and interpreter shutdown of moto's state alone takes seconds.
    stopper = threading.Thread(target=server.stop, name="local-server-stop", daemon=True)
    stopper.start()
    stopper.join(STOP_GRACE_S)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
