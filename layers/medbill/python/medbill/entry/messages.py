"""The messages on the queues that carry more than one kind, as typed models.

The intake queue carries S3 notifications (`encounters/`) and `continue_intake` messages; the
remittance queue carries S3 notifications (`era/`), `release` requests and `continue_era` messages;
the acks queue carries S3 notifications (`acks/`). Our own messages name their `kind` (the senders
are medbill.adapters.sqs); S3's come from S3 and have no `kind`, so the
discriminator is a function: `kind` when present, else S3's own shape (`Records`, or the
`s3:TestEvent` S3 sends once when a notification is configured).

A body that is not JSON, has an unknown kind or misses a field raises `UnreadableMessage`, which
names the kind and the failed fields only (never the body): the batch reports it as an item failure,
SQS retries it and then moves it to the DLQ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter, ValidationError

from medbill.intake.encounter_stream import Resume
from medbill.models.errors import error_fields
from medbill.ports import ObjectVersion


class UnreadableMessage(ValueError):
    """An SQS message that is none of the kinds its queue carries, or a malformed one."""


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    etag: str
    size: int | None = None
    version_id: str | None = None  # a versioned bucket's (the data bucket is versioned in AWS)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


# --- S3 event notifications (as S3 writes them into the queue) ----------------------------------
class _S3Bucket(_Model):
    name: str = Field(min_length=1)


class _S3ObjectRef(_Model):
    key: str = Field(min_length=1)
    etag: str = Field(default="", alias="eTag")
    size: int | None = Field(default=None, ge=0)  # bytes: intake checks its limits before reading
    version_id: str | None = Field(default=None, alias="versionId")


class _S3Entity(_Model):
    bucket: _S3Bucket
    object: _S3ObjectRef


class _S3Record(_Model):
    event_name: str = Field(alias="eventName")
    s3: _S3Entity


class S3Notification(_Model):
    kind: Literal["s3"] = "s3"
    records: list[_S3Record] = Field(alias="Records")

    def created_objects(self) -> list[S3Object]:
        """The objects created (other events are not ours to handle)."""
        return [
            # Keys arrive URL-encoded in notifications ("my file.json" -> "my+file.json").
            S3Object(
                bucket=r.s3.bucket.name,
                key=unquote_plus(r.s3.object.key),
                etag=r.s3.object.etag,
                size=r.s3.object.size,
                version_id=r.s3.object.version_id,
            )
            for r in self.records
            if r.event_name.startswith("ObjectCreated")
        ]


class S3TestEvent(_Model):
    """Sent once per queue when a bucket notification is configured: nothing to do."""

    kind: Literal["s3_test"] = "s3_test"
    event: Literal["s3:TestEvent"] = Field(alias="Event")


# --- our own messages ---------------------------------------------------------------------------
class ObjectVersionRef(_Model):
    etag: str = Field(min_length=1, max_length=200)
    version_id: str | None = Field(default=None, min_length=1, max_length=1024)


class ContinueIntake(_Model):
    """Intake ran low on time: the rest of the file, from record `from_record` (adapters.sqs.IntakeQueue)."""

    kind: Literal["continue_intake"]
    key: str = Field(min_length=1)
    from_record: int = Field(ge=1)
    resume: Resume | None = None  # where to read on (JSON, CSV); absent: from the top, skipping to from_record
    # The object version the first pass read: every pass reads it, or stops (absent: sent before versions
    # were pinned; read whatever the key holds, as then).
    version: ObjectVersionRef | None = None

    def object_version(self) -> ObjectVersion | None:
        return ObjectVersion(self.version.etag, self.version.version_id) if self.version else None


class ReleaseEra(_Model):
    """A person released a quarantined ERA file for posting (adapters.sqs.ReleaseQueue)."""

    kind: Literal["release"]
    source_key: str = Field(min_length=1)
    file_id: str | None = None
    released_by: str | None = None
    encoding: Literal["latin-1", "windows-1252"] | None = None  # a person confirmed the file's encoding
    recheck: bool = False  # check the file as on its first delivery (it was unreadable before)


class ContinueEra(_Model):
    """A big ERA file's fan-out ran low on time: resume it from the checkpoints on its ERA records
    (adapters.sqs.EraContinuationQueue; billing.era_fanout)."""

    kind: Literal["continue_era"]
    source_key: str = Field(min_length=1)
    file_id: str = Field(min_length=1, max_length=40)


def _kind(body: Any) -> str | None:
    if isinstance(body, BaseModel):
        return getattr(body, "kind", None)
    if not isinstance(body, dict):
        return None
    if "kind" in body:
        return body["kind"] if isinstance(body["kind"], str) else None
    if body.get("Event") == "s3:TestEvent":
        return "s3_test"
    if "Records" in body:
        return "s3"
    return None


IntakeMessage = Annotated[
    Annotated[S3Notification, Tag("s3")]
    | Annotated[S3TestEvent, Tag("s3_test")]
    | Annotated[ContinueIntake, Tag("continue_intake")],
    Discriminator(_kind),
]
RemittanceMessage = Annotated[
    Annotated[S3Notification, Tag("s3")]
    | Annotated[S3TestEvent, Tag("s3_test")]
    | Annotated[ReleaseEra, Tag("release")]
    | Annotated[ContinueEra, Tag("continue_era")],
    Discriminator(_kind),
]

AckMessage = Annotated[
    Annotated[S3Notification, Tag("s3")] | Annotated[S3TestEvent, Tag("s3_test")],
    Discriminator(_kind),
]

_INTAKE: TypeAdapter[S3Notification | S3TestEvent | ContinueIntake] = TypeAdapter(IntakeMessage)
_REMITTANCE: TypeAdapter[S3Notification | S3TestEvent | ReleaseEra | ContinueEra] = TypeAdapter(RemittanceMessage)
_ACK: TypeAdapter[S3Notification | S3TestEvent] = TypeAdapter(AckMessage)


def _parse(adapter: TypeAdapter[Any], queue: str, body: str) -> Any:
    try:
        return adapter.validate_json(body)
    except ValidationError as err:
        # Field paths and rule types only: pydantic's own message quotes the body.
        raise UnreadableMessage(f"{queue} queue message not readable: {'; '.join(error_fields(err))}") from None


def intake_message(body: str) -> S3Notification | S3TestEvent | ContinueIntake:
    return _parse(_INTAKE, "intake", body)  # type: ignore[no-any-return]


def remittance_message(body: str) -> S3Notification | S3TestEvent | ReleaseEra | ContinueEra:
    return _parse(_REMITTANCE, "remittance", body)  # type: ignore[no-any-return]


def ack_message(body: str) -> S3Notification | S3TestEvent:
    """The acks queue carries S3 notifications of `acks/` only."""
    return _parse(_ACK, "acks", body)  # type: ignore[no-any-return]


def eligibility_message(body: str) -> S3Notification | S3TestEvent:
    """The eligibility-271 queue carries S3 notifications of `eligibility/271/` only."""
    return _parse(_ACK, "eligibility-271", body)  # type: ignore[no-any-return]
