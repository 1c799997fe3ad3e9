"""The staff console in a real browser (headless Debian chromium via Playwright) against the local
stack (`make local`: moto server, the pipeline, the payer simulator, the API and console server).

Sign in the way staff do in AWS: SRP against the user pool (moto's Cognito here) and TOTP, enrolling
an authenticator at the first sign-in and giving a code after that (a wrong code is refused); a biller
works an eligibility hold from the work queue to the recheck and sees her name on the timeline; a
viewer is refused the action by the API; a user of one clinic cannot open another clinic's claim; a
biller uploads an encounter file from the console (presigned POST to S3, under the console's real
CSP) and sees its record become a claim and another clinic's record rejected; the pages have no
serious axe-core violations (labels, keyboard, contrast).

One test, steps in order: the stack (moto server, pipeline, browser) is too heavy to start once per
pytest-xdist worker, and a module fixture would be.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from infra import config
from infra.local.identity import DEMO_PASSWORD, fresh_totp_code
from infra.local.server import LocalServer
from medbill.models.claim import claim_id_for
from tests.e2e.browser import ARGS, AXE, require_browser

pytestmark = pytest.mark.e2e
SAMPLES = config.REPO_ROOT / "events" / "encounters"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _api(server: LocalServer, token: str, path: str) -> Any:
    req = urllib.request.Request(server.api_url + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=60) as resp:  # the machine may be busy
        return json.loads(resp.read())


@pytest.fixture
def stack() -> Iterator[dict[str, Any]]:
    executable = require_browser()
    server = LocalServer(moto_port=_free_port(), api_port=_free_port(), pump_interval_s=0.2)
    server.start()
    try:
        assert server.runtime is not None
        for name in ("northside-2026-11-20.json", "lakeview-2026-11-20.csv"):
            server.runtime.upload(f"{config.ENCOUNTERS_PREFIX}{name}", (SAMPLES / name).read_bytes())
        admin = server.sign_in("ada.admin")
        ddb = boto3.client("dynamodb", endpoint_url=server.endpoint_url)
        deadline, hold, lakeview = time.monotonic() + 300, None, None
        while time.monotonic() < deadline and (hold is None or lakeview is None):
            holds = _api(server, admin, "/claims?status=ELIGIBILITY_HOLD")["items"]
            for claim in holds:  # parked: its task token is on the claim (a recheck can resume it)
                item = ddb.get_item(
                    TableName=server.runtime.resources.claims_table,
                    Key={"pk": {"S": f"CLAIM#{claim['claim_id']}"}, "sk": {"S": "CLAIM"}},
                )["Item"]
                if "task_token" in item and claim["clinic_id"] == "clinic-northside":
                    hold = claim["claim_id"]
            lake = _api(server, admin, "/claims?clinic=clinic-lakeview")["items"]
            lakeview = lake[0]["claim_id"] if lake else None
            time.sleep(0.5)
        assert hold and lakeview, "the samples never produced a parked hold and a lakeview claim"
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=executable, args=ARGS, headless=True)
            try:
                yield {"server": server, "browser": browser, "hold": hold, "lakeview": lakeview, "totp": {}}
            finally:
                browser.close()
    finally:
        server.stop()


def _sign_in_form(stack: dict[str, Any], user: str, *, csp: bool = False) -> Any:
    # bypass_csp: only so the test can inject axe-core; with csp=True the console runs under its CSP.
    context = stack["browser"].new_context(bypass_csp=not csp)
    context.set_default_timeout(60_000)  # the machine may be busy with other test runs
    page = context.new_page()
    page.goto(stack["server"].api_url + "/console/")
    page.wait_for_selector("body[data-ready='signin']")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("body[data-ready^='challenge:']")
    return page


def _page(stack: dict[str, Any], user: str, *, csp: bool = False) -> Any:
    """Signed in: SRP, then the TOTP challenge (enrolment the first time: the key the page shows)."""
    page = _sign_in_form(stack, user, csp=csp)
    challenge = page.evaluate("document.body.dataset.ready")
    secret = page.locator("#totp-secret").inner_text() if challenge == "challenge:totp-setup" else None
    page.get_by_label("Authenticator code").fill(fresh_totp_code(secret or stack["totp"].get(user, "")))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector("body[data-ready='#/']")
    if secret:
        stack["totp"][user] = secret
    stack.setdefault("challenges", []).append((user, challenge))
    return page


def _axe(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def _goto(page: Any, hash_: str) -> None:
    page.evaluate(f"location.hash = {json.dumps(hash_)}")
    page.wait_for_selector(f"body[data-ready={json.dumps(hash_)}]")


def step_sign_in_with_srp_and_totp(stack: dict[str, Any]) -> None:
    _page(stack, "bea.biller")  # the first sign-in enrols an authenticator (the key is shown once)
    assert stack["challenges"] == [("bea.biller", "challenge:totp-setup")]
    assert stack["totp"]["bea.biller"] == "asdfasdfasdf"  # moto's one secret, as the page showed it
    wrong = _sign_in_form(stack, "bea.biller")
    assert wrong.evaluate("document.body.dataset.ready") == "challenge:totp"  # enrolled: a code now
    code = fresh_totp_code(stack["totp"]["bea.biller"])
    wrong.get_by_label("Authenticator code").fill(f"{(int(code) + 500_000) % 1_000_000:06d}")
    wrong.get_by_role("button", name="Continue").click()
    wrong.wait_for_selector("body[data-ready='signin']")
    assert wrong.locator("#message").inner_text().startswith("That code did not match")
    assert wrong.evaluate("sessionStorage.getItem('medbill.idToken')") is None
    _page(stack, "bea.biller")
    assert stack["challenges"][-1] == ("bea.biller", "challenge:totp")


def step_sign_in_shows_the_work_queues_with_counts_and_money(stack: dict[str, Any]) -> None:
    page = _page(stack, "bea.biller")
    assert "bea.biller (biller; clinic-northside)" in page.locator("#who").inner_text()
    card = page.locator(".cards li", has_text="Eligibility holds")
    assert card.locator(".count").inner_text() == "1"
    assert "billed" in card.inner_text()
    assert _axe(page) == []


def step_a_biller_works_a_hold_end_to_end(stack: dict[str, Any]) -> None:
    page = _page(stack, "bea.biller")
    page.get_by_role("link", name="Eligibility holds").click()
    page.wait_for_selector("body[data-ready='#/claims?status=ELIGIBILITY_HOLD']")
    page.get_by_role("link", name=stack["hold"]).click()
    page.wait_for_selector(f"body[data-ready='#/claim/{stack['hold']}']")
    assert "ELIGIBILITY_HOLD" in page.locator("dl").inner_text()
    assert _axe(page) == []
    page.get_by_role("button", name="Recheck hold").click()
    page.wait_for_function("document.getElementById('message').textContent.startsWith('Recheck sent')")
    timeline = page.locator("table", has_text="Timeline").inner_text()
    assert "staff:bea.biller:" in timeline  # her name (and id) on the claim's timeline


def step_a_viewer_is_refused_the_action(stack: dict[str, Any]) -> None:
    server = stack["server"]
    claim = _api(server, server.sign_in("ada.admin"), "/claims?status=CODING_HOLD")["items"][0]["claim_id"]
    page = _page(stack, "val.viewer")
    _goto(page, f"#/claim/{claim}")
    page.get_by_role("button", name="Recheck hold").click()
    page.wait_for_function("document.getElementById('message').className === 'error'")
    assert page.locator("#message").inner_text() == "requires role biller"


def step_a_user_of_one_clinic_cannot_open_another_clinics_claim(stack: dict[str, Any]) -> None:
    page = _page(stack, "bea.biller")
    _goto(page, f"#/claim/{stack['lakeview']}")
    assert page.get_by_role("heading", level=2).inner_text() == "Not found"
    assert f"claim {stack['lakeview']} not found" in page.locator("#view").inner_text()
    _goto(page, "#/claims")
    assert stack["lakeview"] not in page.locator("#view").inner_text()
    lee = _page(stack, "lee.lakeview")
    _goto(lee, f"#/claim/{stack['lakeview']}")
    assert f"Claim {stack['lakeview']}" in lee.get_by_role("heading", level=2).inner_text()


def step_reports_and_eras_pages_draw_and_pass_axe(stack: dict[str, Any]) -> None:
    page = _page(stack, "max.manager")
    _goto(page, "#/reports")
    assert page.locator("svg[role='img']").count() == 2
    assert "Clean-claim rate" in page.locator("table", has_text="KPIs").inner_text()
    assert _axe(page) == []
    _goto(page, "#/eras")
    assert _axe(page) == []
    viewer = _page(stack, "val.viewer")
    _goto(viewer, "#/eras")
    assert viewer.get_by_role("heading", level=2).inner_text() == "ERAs"  # her clinic's payee's ERAs
    server = stack["server"]
    mine = {e["era_id"] for e in _api(server, server.sign_in("val.viewer"), "/eras?limit=100")["items"]}
    lakeview = {e["era_id"] for e in _api(server, server.sign_in("lee.lakeview"), "/eras?limit=100")["items"]}
    everyone = {e["era_id"] for e in _api(server, server.sign_in("ada.admin"), "/eras?limit=100")["items"]}
    assert mine and lakeview and not mine & lakeview and mine | lakeview <= everyone  # by payee, never both


def step_a_biller_uploads_an_encounter_file_that_becomes_a_claim(stack: dict[str, Any], tmp_path: Any) -> None:
    records = json.loads((SAMPLES / "northside-2026-11-20.json").read_text())
    mine = {**records[0], "encounter_id": "NS-UPLOAD-0001"}
    other = {**records[1], "encounter_id": "LV-UPLOAD-0002", "clinic_id": "clinic-lakeview"}
    upload = tmp_path / "visits from the EHR.json"
    upload.write_text(json.dumps([mine, other]))
    page = _page(stack, "bea.biller", csp=True)  # the console's own CSP must allow the upload
    _goto(page, "#/upload")
    page.get_by_label("Encounter file (JSON, CSV or HL7)").set_input_files(str(upload))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_selector("body[data-ready='#/upload:done']", timeout=180_000)
    claim_id = claim_id_for("clinic-northside", "NS-UPLOAD-0001")
    accepted = page.locator("table", has_text="Accepted").inner_text()
    rejected = page.locator("table", has_text="Rejected").inner_text()
    assert claim_id in accepted and "LV-UPLOAD-0002" not in accepted
    assert "the file is in the folder of clinic clinic-northside" in rejected
    page.get_by_role("link", name=claim_id).click()
    page.wait_for_selector(f"body[data-ready='#/claim/{claim_id}']")
    assert f"Claim {claim_id}" in page.get_by_role("heading", level=2).inner_text()
    viewer = _page(stack, "val.viewer")
    _goto(viewer, "#/upload")
    assert _axe(viewer) == []
    viewer.get_by_label("Encounter file (JSON, CSV or HL7)").set_input_files(str(upload))
    viewer.get_by_role("button", name="Upload").click()
    viewer.wait_for_function("document.getElementById('message').className === 'error'")
    assert viewer.locator("#message").inner_text() == "requires role biller"


def test_the_console_in_a_browser(stack: dict[str, Any], tmp_path: Any) -> None:
    step_sign_in_with_srp_and_totp(stack)
    step_sign_in_shows_the_work_queues_with_counts_and_money(stack)
    step_a_biller_works_a_hold_end_to_end(stack)
    step_a_viewer_is_refused_the_action(stack)
    step_a_user_of_one_clinic_cannot_open_another_clinics_claim(stack)
    step_reports_and_eras_pages_draw_and_pass_axe(stack)
    step_a_biller_uploads_an_encounter_file_that_becomes_a_claim(stack, tmp_path)
    step_a_biller_retries_a_failed_claim(stack)


def step_a_biller_retries_a_failed_claim(stack: dict[str, Any]) -> None:
    from medbill.entry import wiring
    from medbill.workflow.stages import fail

    server = stack["server"]
    admin = server.sign_in("ada.admin")
    busy = {"ELIGIBILITY_HOLD", "CODING_HOLD", "FAILED", "CLOSED"}
    northside = _api(server, admin, "/claims?clinic=clinic-northside")["items"]
    claim = next(c["claim_id"] for c in northside if c["claim_id"] != stack["hold"] and c["status"] not in busy)
    fail(wiring.repository(), claim, "States.TaskFailed")  # as MarkFailed does after a terminal error
    page = _page(stack, "bea.biller")
    _goto(page, f"#/claim/{claim}")
    assert "FAILED" in page.locator("dl").inner_text()
    assert page.get_by_role("button", name="Recheck hold").count() == 0
    page.get_by_role("button", name="Retry").click()
    page.wait_for_function("document.getElementById('message').textContent.startsWith('Retry started')")
    assert "(attempt 2)" in page.locator("#message").inner_text()
    assert "staff:bea.biller:" in page.locator("table", has_text="Timeline").inner_text()
