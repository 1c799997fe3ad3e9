"""Production envelope identity (issue 15 item 2): the 837P's ISA05-08, GS02-03, 1000A (with PER)
and 1000B come from deployment configuration; a production stage writes ISA15=P and refuses to
synthesize (or start the submission function) with the demo identity; the demo keeps T."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from infra import config
from infra.app import build_app
from medbill.entry import settings
from medbill.x12.claim837 import ControlNumbers, write_837p
from testkit.x12_oracle import make_claim, pyx12_errors

IDENTITY = {
    "X12_SENDER_QUALIFIER": "30",
    "X12_SENDER_ID": "591234567",
    "X12_RECEIVER_QUALIFIER": "ZZ",
    "X12_RECEIVER_ID": "AVAILITY",
    "X12_APPLICATION_SENDER": "SUB4321",
    "X12_APPLICATION_RECEIVER": "030240928",
    "X12_SUBMITTER_NAME": "NORTHSIDE BILLING LLC",
    "X12_SUBMITTER_CONTACT": "JANE CLERK",
    "X12_SUBMITTER_PHONE": "3125550199",
    "X12_SUBMITTER_EMAIL": "EDI@NORTHSIDE.EXAMPLE",
    "X12_RECEIVER_NAME": "AVAILITY LLC",
}
DEMO_LEFT = [
    "X12_SENDER_ID",
    "X12_RECEIVER_ID",
    "X12_SUBMITTER_NAME",
    "X12_SUBMITTER_CONTACT",
    "X12_SUBMITTER_PHONE",
    "X12_RECEIVER_NAME",
]


def test_the_demo_and_every_non_production_stage_write_t() -> None:
    assert config.envelope_environment({}) == {"X12_USAGE_INDICATOR": "T"}
    env = config.envelope_environment({"MEDBILL_STAGE": "dev", **IDENTITY, "X12_USAGE_INDICATOR": "P"})
    assert env == {**IDENTITY, "X12_USAGE_INDICATOR": "T"}


def test_production_without_a_real_identity_names_what_is_missing() -> None:
    with pytest.raises(config.ProductionIdentityMissing) as err:
        config.envelope_environment({"MEDBILL_STAGE": "prod"})
    assert str(err.value) == (
        "MEDBILL_STAGE=prod writes ISA15=P: set a real clearinghouse identity in "
        + ", ".join(DEMO_LEFT)
        + " (README, Deploying)"
    )
    partial = {"MEDBILL_STAGE": "prod", **IDENTITY, "X12_SUBMITTER_PHONE": "8005550100"}
    with pytest.raises(config.ProductionIdentityMissing, match=r"identity in X12_SUBMITTER_PHONE \(README"):
        config.envelope_environment(partial)


def test_production_with_an_identity_writes_p() -> None:
    assert config.envelope_environment({"MEDBILL_STAGE": "prod", **IDENTITY}) == {
        **IDENTITY,
        "X12_USAGE_INDICATOR": "P",
    }
    env = config.LambdaEnvironment(
        "t", "i", "b", "s", envelope=config.envelope_environment({"MEDBILL_STAGE": "prod", **IDENTITY})
    )
    submission = env.as_env(config.FUNCTIONS["submission"])
    assert {k: v for k, v in submission.items() if k.startswith("X12_")} == {**IDENTITY, "X12_USAGE_INDICATOR": "P"}
    assert not {k for k in env.as_env(config.FUNCTIONS["posting"]) if k.startswith("X12_")}


def test_invalid_envelope_values_are_named_not_quoted() -> None:
    with pytest.raises(settings.SettingsError) as err:
        config.envelope_environment({"X12_SENDER_QUALIFIER": "QQ", "X12_SUBMITTER_PHONE": "call-me"})
    assert str(err.value) == "envelope variables invalid: X12_SENDER_QUALIFIER, X12_SUBMITTER_PHONE"
    assert "call-me" not in str(err.value)


def test_a_production_stage_refuses_to_synthesize_without_an_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDBILL_STAGE", "prod")
    for name in IDENTITY:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(config.ProductionIdentityMissing):
        build_app()


def test_the_submission_function_refuses_p_with_the_demo_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X12_USAGE_INDICATOR", "P")
    settings.load.cache_clear()
    try:
        with pytest.raises(settings.SettingsError, match=r"X12_USAGE_INDICATOR \(value_error\)"):
            settings.load(settings.EnvelopeSettings)
        for name, value in IDENTITY.items():
            monkeypatch.setenv(name, value)
        settings.load.cache_clear()
        assert settings.load(settings.EnvelopeSettings).clearinghouse().usage_indicator == "P"
    finally:
        settings.load.cache_clear()


def test_the_837p_carries_the_configured_identity_and_passes_pyx12(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {**IDENTITY, "X12_USAGE_INDICATOR": "P"}.items():
        monkeypatch.setenv(name, value)
    identity = settings.EnvelopeSettings().clearinghouse()
    text = write_837p(
        [make_claim("CLM1")],
        settings=identity,
        control_numbers=ControlNumbers(interchange=42, group=42),
        created=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
    )
    segments = [s.strip() for s in text.split("~") if s.strip()]
    isa = segments[0].split("*")
    assert (isa[5], isa[6].strip(), isa[7], isa[8].strip(), isa[15]) == ("30", "591234567", "ZZ", "AVAILITY", "P")
    gs = segments[1].split("*")
    assert (gs[2], gs[3]) == ("SUB4321", "030240928")
    assert "NM1*41*2*NORTHSIDE BILLING LLC*****46*591234567" in segments
    assert "PER*IC*JANE CLERK*TE*3125550199*EM*EDI@NORTHSIDE.EXAMPLE" in segments
    assert "NM1*40*2*AVAILITY LLC*****46*AVAILITY" in segments
    assert pyx12_errors(text) == []
