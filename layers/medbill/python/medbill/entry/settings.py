"""The Lambda environment, read once per cold start into a typed model per function.

Each piece of configuration is one small `BaseSettings` (the claims table, the data bucket, a
queue URL...); each function's model combines exactly the pieces its handler uses, and the handler
loads it at import, so a missing variable fails the cold start (Lambda's init error) naming the
variable, instead of a `None` turning up in the first request that needs it.

`FUNCTION_SETTINGS` maps every function (a key of `infra.config.FUNCTIONS`) to its model; the
CDK stack, the local runtime and tests/infra read the variable names from there
(`required_variables`), so nobody keeps a second list.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Annotated, Literal, TypeVar

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from medbill.models.errors import field_path

NonEmpty = Annotated[str, Field(min_length=1)]


@dataclass(frozen=True)
class ClearinghouseSettings:
    """Who we are in the 837P envelope (ISA/GS, loops 1000A/1000B) and who we send to. The defaults
    are the demo identity: a production deployment sets every one (EnvelopeSettings, README)."""

    sender_id: str = "MEDBILL"  # ISA06 (and GS02 and 1000A NM109 unless given)
    receiver_id: str = "CLEARINGHOUSE"  # ISA08 (and GS03 and 1000B NM109 unless given)
    submitter_name: str = "MEDBILL BILLING SERVICE"  # 1000A NM103
    submitter_contact: str = "BILLING OFFICE"  # 1000A PER02
    submitter_phone: str = "8005550100"  # 1000A PER04
    receiver_name: str = "DEMO CLEARINGHOUSE"  # 1000B NM103
    usage_indicator: str = "T"  # ISA15: T test, P production
    sender_qualifier: str = "ZZ"  # ISA05
    receiver_qualifier: str = "ZZ"  # ISA07
    application_sender: str = ""  # GS02 ('' = sender_id)
    application_receiver: str = ""  # GS03 ('' = receiver_id)
    submitter_email: str = ""  # 1000A PER06 with PER05 EM ('' = none)


# The demo identity's values: a production envelope (ISA15 P) must replace every one of them.
DEMO_IDENTITY = ClearinghouseSettings()
IDENTITY_VARIABLES = {
    "X12_SENDER_ID": "sender_id",
    "X12_RECEIVER_ID": "receiver_id",
    "X12_SUBMITTER_NAME": "submitter_name",
    "X12_SUBMITTER_CONTACT": "submitter_contact",
    "X12_SUBMITTER_PHONE": "submitter_phone",
    "X12_RECEIVER_NAME": "receiver_name",
}


def demo_identity_left(identity: ClearinghouseSettings) -> list[str]:
    """The variables whose value is still the demo identity's (empty: a real identity)."""
    return [var for var, attr in IDENTITY_VARIABLES.items() if getattr(identity, attr) == getattr(DEMO_IDENTITY, attr)]


class EnvironmentSettings(BaseSettings):
    """Base of every piece: a field `table_name` is the variable `TABLE_NAME`; an empty value counts
    as missing (the old reader turned "" into None or failed later)."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False, env_ignore_empty=True)


# --- the pieces ---------------------------------------------------------------------------------
class ClaimStoreSettings(EnvironmentSettings):
    table_name: NonEmpty


class ArtifactSettings(EnvironmentSettings):
    data_bucket: NonEmpty


class IdempotencySettings(EnvironmentSettings):
    idempotency_table_name: NonEmpty


class ExecutionSettings(EnvironmentSettings):
    """Only functions that start executions: the ones inside the state machine cannot get its ARN
    (a dependency cycle in CloudFormation) and resume by task token, which needs no ARN."""

    state_machine_arn: NonEmpty


class IntakeQueueSettings(EnvironmentSettings):
    intake_queue_url: NonEmpty  # intake continues a long file through it


class PostingQueueSettings(EnvironmentSettings):
    posting_queue_url: NonEmpty  # remittance fans claim payments out to it


class ReleaseQueueSettings(EnvironmentSettings):
    # The API asks the remittance stage to post a released ERA; remittance continues a big ERA's fan-out.
    remittance_queue_url: NonEmpty


class EligibilitySettings(EnvironmentSettings):
    # The Secrets Manager secret of the clearinghouse's CAQH CORE real-time endpoint
    # (adapters.eligibility_core.CoreSecret: url, username, password, sender/receiver ids), read on
    # first use. Unset or unreadable: every check answers "unavailable", the claim holds and is
    # asked again on the schedule (never lost).
    eligibility_secret_id: NonEmpty | None = None


class FeeScheduleSettings(EnvironmentSettings):
    fee_schedule_dir: NonEmpty | None = None  # None = the packaged demo schedules


class EnvelopeSettings(EnvironmentSettings):
    """The 837P envelope identity (ClearinghouseSettings) from X12_* variables. ISA15 P with any of
    the demo identity's values left fails the cold start (X12_USAGE_INDICATOR invalid): a production
    file never goes out as MEDBILL / DEMO CLEARINGHOUSE."""

    x12_sender_qualifier: Literal["01", "14", "20", "27", "28", "29", "30", "33", "ZZ"] = "ZZ"
    x12_sender_id: NonEmpty = DEMO_IDENTITY.sender_id
    x12_receiver_qualifier: Literal["01", "14", "20", "27", "28", "29", "30", "33", "ZZ"] = "ZZ"
    x12_receiver_id: NonEmpty = DEMO_IDENTITY.receiver_id
    x12_application_sender: str = ""
    x12_application_receiver: str = ""
    x12_submitter_name: NonEmpty = DEMO_IDENTITY.submitter_name
    x12_submitter_contact: NonEmpty = DEMO_IDENTITY.submitter_contact
    x12_submitter_phone: Annotated[str, Field(pattern=r"^[0-9]{10,15}$")] = DEMO_IDENTITY.submitter_phone
    x12_submitter_email: str = ""
    x12_receiver_name: NonEmpty = DEMO_IDENTITY.receiver_name
    x12_usage_indicator: Literal["P", "T"] = "T"  # last: its check reads the identity above

    @field_validator("x12_usage_indicator")
    @classmethod
    def _production_needs_a_real_identity(cls, usage: str, info: ValidationInfo) -> str:
        if usage == "P":
            left = [
                v for v, attr in IDENTITY_VARIABLES.items() if info.data.get(v.lower()) == getattr(DEMO_IDENTITY, attr)
            ]
            if left:
                raise ValueError("ISA15 P needs a real envelope identity: set " + ", ".join(left))
        return usage

    def clearinghouse(self) -> ClearinghouseSettings:
        return ClearinghouseSettings(
            sender_id=self.x12_sender_id,
            receiver_id=self.x12_receiver_id,
            submitter_name=self.x12_submitter_name,
            submitter_contact=self.x12_submitter_contact,
            submitter_phone=self.x12_submitter_phone,
            receiver_name=self.x12_receiver_name,
            usage_indicator=self.x12_usage_indicator,
            sender_qualifier=self.x12_sender_qualifier,
            receiver_qualifier=self.x12_receiver_qualifier,
            application_sender=self.x12_application_sender,
            application_receiver=self.x12_application_receiver,
            submitter_email=self.x12_submitter_email,
        )


class ClearinghouseConnectionSettings(EnvironmentSettings):
    # The Secrets Manager secret (adapters.sftp.SftpSecret: host, port, username, password or
    # private key, host key, folders), read once per cold start.
    clearinghouse_secret_id: NonEmpty
    # Answers are read only when two listings this far apart show the same size and mtime.
    clearinghouse_settle_seconds: float = Field(default=2.0, ge=0, le=60)


class AckPolicySettings(EnvironmentSettings):
    # Payers that treat a 999 "accepted with errors" (IK5 E) as a rejection, comma-separated payer ids.
    ack_999_errors_reject_payers: str = ""

    def errors_reject(self, payer_id: str) -> bool:
        return payer_id in {p.strip() for p in self.ack_999_errors_reject_payers.split(",") if p.strip()}


# --- one model per function (what its handler and the wiring it calls read) --------------------
class IntakeSettings(
    ClaimStoreSettings, ArtifactSettings, IdempotencySettings, ExecutionSettings, IntakeQueueSettings
): ...


class RegistrationSettings(ClaimStoreSettings): ...


class EligibilityFunctionSettings(ClaimStoreSettings, EligibilitySettings, FeeScheduleSettings): ...


class CodingSettings(ClaimStoreSettings, FeeScheduleSettings): ...


class ChargesSettings(ClaimStoreSettings, FeeScheduleSettings): ...


class SubmissionSettings(ClaimStoreSettings, ArtifactSettings, EnvelopeSettings): ...


class AwaitTokenSettings(ClaimStoreSettings): ...  # parks and resumes by task token


class RemittanceSettings(
    ClaimStoreSettings, ArtifactSettings, IdempotencySettings, PostingQueueSettings, ReleaseQueueSettings
): ...


class PostingSettings(ClaimStoreSettings): ...  # the message carries the data; resumes by task token


class FollowupSettings(ClaimStoreSettings): ...


class ApiSettings(ClaimStoreSettings, ArtifactSettings, ExecutionSettings, ReleaseQueueSettings):
    """Resumes by task token; clinic profiles and POST /fhir/Bundle (keeps the Bundle, starts executions).
    `console_origin`: the staff console's origin (CloudFront), the one CORS allows; unset locally,
    where the console and the API share an origin."""

    console_origin: str | None = None


# Scheduled; stamps each send on its claims (proof of filing).
class ClearinghouseFunctionSettings(ClaimStoreSettings, ArtifactSettings, ClearinghouseConnectionSettings): ...


class AcksSettings(
    ClaimStoreSettings, ArtifactSettings, IdempotencySettings, AckPolicySettings
): ...  # resumes by token


# Batch eligibility: the evening 270 batches from appointments files (control numbers and the day's
# answers in the claims table, the 270's envelope identity from X12_*) ...
class EligibilityBatchSettings(ClaimStoreSettings, ArtifactSettings, EnvelopeSettings): ...


# ... and the 271 consumer (S3 eligibility/271/ -> SQS): the day's answers, idempotent per object.
class Eligibility271Settings(ClaimStoreSettings, ArtifactSettings, IdempotencySettings): ...


class EligibilityRetrySettings(ClaimStoreSettings): ...  # scheduled; resumes by task token


class StatementsSettings(ClaimStoreSettings, ArtifactSettings): ...  # scheduled: followup.handler.statements


# Scheduled; writes 276s to outbox/276/ under the 837P's envelope identity and control numbers.
class StatusInquirySettings(ClaimStoreSettings, ArtifactSettings, EnvelopeSettings): ...


FUNCTION_SETTINGS: dict[str, type[EnvironmentSettings]] = {
    "intake": IntakeSettings,
    "registration": RegistrationSettings,
    "eligibility": EligibilityFunctionSettings,
    "coding": CodingSettings,
    "charges": ChargesSettings,
    "submission": SubmissionSettings,
    "await_token": AwaitTokenSettings,
    "remittance": RemittanceSettings,
    "posting": PostingSettings,
    "followup": FollowupSettings,
    "api": ApiSettings,
    "acks": AcksSettings,  # S3 acks/ -> SQS: 999 and 277CA drive claims
    # scheduled (infra.config.SCHEDULES)
    "clearinghouse": ClearinghouseFunctionSettings,
    "eligibility_retry": EligibilityRetrySettings,  # issue 9: rechecks the payer did not answer
    "timely_filing": FollowupSettings,  # followup.handler.scheduled
    "statements": StatementsSettings,  # followup.handler.statements: PDFs into the bucket
    "status_inquiry": StatusInquirySettings,  # issue 15: 276 for quiet claims
    "eligibility_batch": EligibilityBatchSettings,  # issue 9: 270 batches in the evening
    # S3 eligibility/271/ -> SQS
    "eligibility_271": Eligibility271Settings,  # issue 9: the 271s of those batches
}
# Functions the stack does not build yet (infra.config.PENDING_FUNCTIONS, none today): they join
# FUNCTION_SETTINGS when the CDK side creates them (tests/infra hold it equal to config.FUNCTIONS).
PENDING_FUNCTION_SETTINGS: dict[str, type[EnvironmentSettings]] = {}


def variable_name(field: str) -> str:
    return field.upper()


def required_variables(model: type[EnvironmentSettings]) -> frozenset[str]:
    """The variables `model` cannot start without."""
    return frozenset(variable_name(name) for name, info in model.model_fields.items() if info.is_required())


def variables(model: type[EnvironmentSettings]) -> frozenset[str]:
    """Every variable `model` reads (required or with a default)."""
    return frozenset(variable_name(name) for name in model.model_fields)


class SettingsError(RuntimeError):
    """The environment does not satisfy a function's settings: names the variables, never values."""


S = TypeVar("S", bound=EnvironmentSettings)


@cache
def load(model: type[S]) -> S:
    """`model` read from the environment once per process (`reset()` in wiring forgets it).

    Raises SettingsError naming each missing or invalid variable; the values (ARNs, URLs) stay out
    of the message like everything else we log.
    """
    try:
        return model()
    except ValidationError as err:
        problems = ", ".join(
            f"{variable_name(field_path(e['loc']))} ({'missing' if e['type'] == 'missing' else e['type']})"
            for e in err.errors(include_url=False, include_context=False, include_input=False)
        )
        raise SettingsError(f"{model.__name__}: environment variables missing or invalid: {problems}") from None
