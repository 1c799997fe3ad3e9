"""The real-time gateway against the payer simulator's CAQH CORE endpoint: a real HTTP server on
127.0.0.1 (no mocked HTTP), the secret from (moto's) Secrets Manager, retries and the 20 s rule."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import boto3
import pytest
from moto import mock_aws

from infra.local.core_endpoint import SECRET_NAME, CoreEndpoint, put_secret
from medbill.adapters import core_mime
from medbill.adapters.eligibility_core import CoreEligibilityGateway, CoreSecret, load_core_secret
from medbill.models.eligibility import EligibilityInquiry

D = Decimal
DOS = date(2026, 11, 18)


def _inquiry(member_id: str, payer_id: str = "PAYERA01", **overrides: object) -> EligibilityInquiry:
    fields: dict[str, object] = {
        "payer_id": payer_id,
        "payer_name": "ACME (DEMO)",
        "member_id": member_id,
        "date_of_service": DOS,
        "trace_number": "CLMTEST0001",
        "subscriber_last_name": "DOE",
        "subscriber_first_name": "JANE",
        "subscriber_birth_date": date(1980, 2, 3),
        "service_type": "98",
        "provider_npi": "1990000014",
        "provider_name": "NORTHSIDE FAMILY MEDICINE",
    }
    fields.update(overrides)
    return EligibilityInquiry(**fields)  # type: ignore[arg-type]


@pytest.fixture
def endpoint() -> Iterator[CoreEndpoint]:
    with CoreEndpoint(slow_seconds=1.5) as ep:
        yield ep


def _gateway(endpoint: CoreEndpoint, **secret: object) -> tuple[CoreEligibilityGateway, list[float]]:
    slept: list[float] = []
    config = CoreSecret.model_validate(endpoint.secret(**secret))
    return CoreEligibilityGateway(config, sleep=slept.append), slept


def test_secret_from_secrets_manager_and_an_active_member_over_http(endpoint: CoreEndpoint) -> None:
    with mock_aws():
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        put_secret(sm, endpoint.secret())
        secret = load_core_secret(SECRET_NAME, sm)
    gateway = CoreEligibilityGateway(secret)
    r = gateway.verify(_inquiry("ACM300400501"))
    assert (r.active, r.reason, r.plan, r.copay, r.coinsurance, r.deductible_remaining) == (
        True,
        None,
        "Acme PPO Gold (demo)",
        D("30.00"),
        D("0.20"),
        D("0.00"),
    )
    assert (r.plan_begin, r.plan_end, r.network, r.service_type) == (date(2026, 1, 1), date(2026, 12, 31), "in", "98")
    assert (gateway.attempts, endpoint.requests, endpoint.responder.answers) == (1, 1, 1)
    assert len(endpoint.payload_ids) == 1 and len(endpoint.payload_ids[0]) == 36  # a UUID per request


@pytest.mark.parametrize(
    ("payer", "member", "reason", "codes"),
    [
        ("PAYERC03", "CCH-4418-0093", "coverage_inactive", ()),
        ("PAYERA01", "NOSUCHMEMBER1", "member_not_found", ("75",)),
        ("PAYERX99", "ACM100200301", "payer_not_found", ("79",)),
        ("PAYERA01", "ACM900000001", "coverage_ended", ()),
        ("PAYERA01", "ACM900000002", "service_not_covered", ()),
        ("PAYERA01", "ACM900000003", "other_payer", ()),
    ],
)
def test_each_hold_case_from_the_simulators_member_data(
    endpoint: CoreEndpoint, payer: str, member: str, reason: str, codes: tuple[str, ...]
) -> None:
    gateway, _ = _gateway(endpoint)
    r = gateway.verify(_inquiry(member, payer))
    assert (r.active, r.reason, r.rejection_codes) == (False, reason, codes)
    assert gateway.attempts == 1  # a definite answer is not retried


def test_a_corrected_member_id_and_name_come_back_as_a_correction(endpoint: CoreEndpoint) -> None:
    gateway, _ = _gateway(endpoint)
    r = gateway.verify(_inquiry("ACM900000004"))
    assert r.active and r.correction is not None
    assert (r.correction.member_id, r.correction.last_name, r.correction.first_name) == (
        "ACM900000044",
        "CORRECTED",
        None,
    )


def test_a_dependent_is_asked_in_2100D_and_answered_there(endpoint: CoreEndpoint) -> None:
    gateway, _ = _gateway(endpoint)
    inquiry = _inquiry(
        "CCH-5520-0012",
        "PAYERC03",
        dependent_last_name="DOE",
        dependent_first_name="KID",
        dependent_birth_date=date(2015, 6, 7),
        dependent_relationship="19",
    )
    r = gateway.verify(inquiry)
    assert (r.active, r.copay, r.plan, r.plan_end) == (
        True,
        D("0.00"),
        "Coastal HMO Plus, dependent (demo)",
        date(2026, 12, 31),
    )


@pytest.mark.parametrize("fault", ["http500", "aaa42", "slow"])
def test_a_transient_failure_is_retried_and_then_answered(endpoint: CoreEndpoint, fault: str) -> None:
    endpoint.faults = [fault]
    gateway, slept = _gateway(endpoint, attempt_timeout_seconds=1.0)
    r = gateway.verify(_inquiry("ACM100200301"))
    assert (r.active, r.copay) == (True, D("25.00"))
    assert (gateway.attempts, slept) == (2, [0.25])


def test_a_payer_that_cannot_answer_is_unavailable_after_bounded_retries(endpoint: CoreEndpoint) -> None:
    gateway, slept = _gateway(endpoint)
    r = gateway.verify(_inquiry("ACM900000005"))  # AAA 42 every time
    assert (r.active, r.reason, r.rejection_codes, r.retry_after_seconds) == (False, "unavailable", ("42",), 900)
    assert (gateway.attempts, slept) == (3, [0.25, 1.0])


def test_slow_answers_stop_inside_the_20_second_rule(endpoint: CoreEndpoint) -> None:
    endpoint.faults = ["slow"] * 5
    gateway, _ = _gateway(endpoint, attempt_timeout_seconds=1.0, deadline_seconds=2.5)
    started = time.monotonic()
    r = gateway.verify(_inquiry("ACM100200301"))
    assert r.reason == "unavailable" and r.rejection_codes == ()
    assert time.monotonic() - started < 3.5 and gateway.attempts == 2
    with pytest.raises(ValueError, match="deadline_seconds"):
        CoreSecret.parse(
            '{"url": "http://x", "username": "u", "password": "p", "sender_id": "AB", '
            '"receiver_id": "CD", "deadline_seconds": 25}'
        )


def test_wrong_credentials_or_a_missing_secret_hold_instead_of_failing(endpoint: CoreEndpoint) -> None:
    gateway, _ = _gateway(endpoint, password="wrong")
    assert gateway.verify(_inquiry("ACM100200301")).reason == "unavailable"

    def no_secret() -> CoreSecret:
        raise RuntimeError("ELIGIBILITY_SECRET_ID is not set")

    assert CoreEligibilityGateway(no_secret).verify(_inquiry("ACM100200301")).reason == "unavailable"


def test_the_endpoint_speaks_the_core_envelope(endpoint: CoreEndpoint) -> None:
    import urllib.error
    import urllib.request

    body, content_type = core_mime.encode({"ProcessingMode": "RealTime", "PayloadType": core_mime.PAYLOAD_270})
    request = urllib.request.Request(endpoint.url, data=body, method="POST", headers={"Content-Type": content_type})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=5)
    assert err.value.code == 400
    answer = core_mime.decode(err.value.read(), err.value.headers["Content-Type"])
    assert answer["ErrorCode"] == "MissingFields"
    assert (
        answer["ErrorMessage"]
        == "PayloadID, TimeStamp, UserName, Password, SenderID, ReceiverID, CORERuleVersion, Payload"
    )
    assert answer["CORERuleVersion"] == "2.2.0"


def test_no_phi_in_the_adapters_logs(endpoint: CoreEndpoint, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    endpoint.faults = ["http500", "aaa42"]
    gateway, _ = _gateway(endpoint)
    gateway.verify(_inquiry("ACM900000005"))
    assert caplog.records
    assert not {"ACM900000005", "DOE", "JANE", "19800203"} & {
        w for rec in caplog.records for w in rec.getMessage().split()
    }
    assert "ACM900000005" not in caplog.text and "JANE" not in caplog.text
