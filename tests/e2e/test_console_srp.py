"""The console's SRP sign-in arithmetic (console/cognito.js) against pycognito, an independent
implementation of Cognito's USER_SRP_AUTH that works against real user pools.

moto's Cognito does not check the SRP proof (its SRP_B and SALT are random and any signature
passes), so the browser test of the local sign-in cannot catch a wrong signature: this test runs
the console's own file in Chromium with fixed random values and compares A, the timestamp format
and the password claim signature with pycognito's for the same inputs.
"""

from __future__ import annotations

import base64
import datetime
import json
import random
from typing import Any

import pytest
from pycognito import aws_srp  # a declared test dependency: missing, this test fails (no skip)

from infra import config
from tests.e2e.browser import ARGS, require_browser

pytestmark = pytest.mark.e2e
COGNITO_JS = config.REPO_ROOT / "console" / "cognito.js"


class _NoClient:
    """pycognito wants a boto3 client; these calls never reach it."""


def _pycognito(case: dict[str, Any]) -> dict[str, str]:
    srp = aws_srp.AWSSRP(case["username"], case["password"], case["pool_id"], "client", client=_NoClient())
    srp.small_a_value = int(case["a"], 16)
    srp.large_a_value = srp.calculate_a()
    srp.get_cognito_formatted_timestamp = lambda _: case["timestamp"]
    challenge = {
        "USERNAME": case["username"],
        "USER_ID_FOR_SRP": case["user_id"],
        "SALT": case["salt"],
        "SRP_B": case["srp_b"],
        "SECRET_BLOCK": case["secret_block"],
    }
    answer = srp.process_challenge(challenge, {"USERNAME": case["username"]})
    return {"A": aws_srp.long_to_hex(srp.large_a_value), "signature": answer["PASSWORD_CLAIM_SIGNATURE"]}


def _cases(n: int) -> list[dict[str, Any]]:
    rng = random.Random(20261207)  # fixed: a failure names the same inputs every run

    def hex_of(nbytes: int) -> str:
        value = "".join(f"{rng.randrange(256):02x}" for _ in range(nbytes))
        return "a" + value[1:] if value[0] == "0" else value  # no leading 0 (pycognito pads SALT as text)

    cases = []
    for i in range(n):
        cases.append(
            {
                "pool_id": f"us-east-1_Pool{i}Xy",
                "username": f"bea.biller{i}",
                "user_id": f"{rng.getrandbits(128):032x}",
                "password": f"Pässword-{i}!{rng.getrandbits(32)}",
                "a": hex_of(128),
                "srp_b": hex_of(384),
                "salt": hex_of(16),
                "secret_block": base64.b64encode(rng.randbytes(200)).decode(),
                "timestamp": "Mon Dec 7 03:04:05 UTC 2026",
            }
        )
    return cases


def test_the_consoles_srp_matches_pycognito() -> None:
    executable = require_browser()
    from playwright.sync_api import sync_playwright

    cases = _cases(4)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=ARGS, headless=True)
        try:
            page = browser.new_page()
            # 127.0.0.1 is a secure context (WebCrypto); nothing listens there: the page is fulfilled.
            page.route(
                "http://127.0.0.1:9/**", lambda route: route.fulfill(body="<html></html>", content_type="text/html")
            )
            page.goto("http://127.0.0.1:9/srp.html")
            page.add_script_tag(path=str(COGNITO_JS))
            got = page.evaluate(
                """async (cases) => {
                  const out = [];
                  for (const c of cases) {
                    const { a, A } = srpStart(BigInt("0x" + c.a));
                    const signature = await srpSignature({ poolId: c.pool_id, userIdForSrp: c.user_id,
                      password: c.password, a, A, srpB: c.srp_b, salt: c.salt, secretBlock: c.secret_block,
                      timestamp: c.timestamp });
                    out.push({ A: A.toString(16), signature });
                  }
                  return { out, stamp: cognitoTimestamp(new Date(Date.UTC(2026, 11, 7, 3, 4, 5))),
                           stamp2: cognitoTimestamp(new Date(Date.UTC(2027, 0, 31, 23, 59, 9))) };
                }""",
                cases,
            )
        finally:
            browser.close()
    assert got["out"] == [_pycognito(c) for c in cases], json.dumps(cases[0])
    fmt = aws_srp.AWSSRP.get_cognito_formatted_timestamp
    assert got["stamp"] == fmt(datetime.datetime(2026, 12, 7, 3, 4, 5)) == "Mon Dec 7 03:04:05 UTC 2026"
    assert got["stamp2"] == fmt(datetime.datetime(2027, 1, 31, 23, 59, 9)) == "Sun Jan 31 23:59:09 UTC 2027"
