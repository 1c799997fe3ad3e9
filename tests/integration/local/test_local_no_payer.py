"""`make local` without the payer simulator (issue 15 item 7): the SFTP clearinghouse runs with
nobody behind it, our 837P waits in its inbound/ folder, and a person's own 277CA put over SFTP
(or a 999 dropped straight into the bucket) drives the claim. A new clinic's fee schedule and a new
member come from the person's data folder, added to the packaged ones (infra/local/user_data.py).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncssh
import pytest

from infra import config
from infra.local import user_data
from infra.local.payer_rules import load_rules
from infra.local.runtime import LocalRuntime
from medbill.entry import wiring
from medbill.models.status import ClaimStatus
from medbill.x12.ack277ca import StatusCode, write_277ca
from medbill.x12.claim837 import ControlNumbers

ROOT = config.REPO_ROOT
SAMPLE = ROOT / "events" / "encounters" / "northside-2026-11-20.json"
NEW_CLINIC = "clinic-newtown"
NEW_MEMBER = "NEW000000001"


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "mine"
    (folder / "fee_schedules").mkdir(parents=True)
    packaged = ROOT / "layers" / "medbill" / "python" / "medbill" / "data" / "fee_schedules" / "clinic-northside.csv"
    (folder / "fee_schedules" / f"{NEW_CLINIC}.csv").write_text(packaged.read_text())
    members = {
        "members": {"PAYERA01": {NEW_MEMBER: {"active": True, "copay": "10.00", "deductible_remaining": "0.00"}}}
    }
    (folder / "payer_members.json").write_text(json.dumps(members))
    payer = json.loads((ROOT / "infra" / "local" / "payer_rules.json").read_text())["payers"]["PAYERA01"]
    rules = {"payers": {"PAYERX09": {**payer, "name": "NEW PAYER"}}, "scenarios": {"pend": [NEW_MEMBER]}}
    (folder / "payer_rules.json").write_text(json.dumps(rules))
    return folder


def test_a_persons_data_is_added_to_the_packaged_data(tmp_path: Path) -> None:
    data = user_data.prepare(_folder(tmp_path))
    try:
        assert (data.added_clinics, data.added_payers) == ((NEW_CLINIC,), ("PAYERX09",))
        assert sorted(p.name for p in data.fee_schedule_dir.iterdir()) == [
            "clinic-lakeview.csv",
            "clinic-newtown.csv",
            "clinic-northside.csv",
        ]
        rules = load_rules(data.rules_path)
        assert {"PAYERA01", "PAYERB02", "PAYERX09"} <= set(rules)
        scenarios = json.loads(data.rules_path.read_text())["scenarios"]
        assert scenarios["pend"] == sorted(["ACM900000103", NEW_MEMBER])
        assert scenarios["reject_999"] == ["ACM900000101"]  # the packaged scenarios stay
        members = json.loads(data.members_path.read_text())["members"]["PAYERA01"]
        assert NEW_MEMBER in members and "ACM900000001" in members
    finally:
        data.cleanup()


def test_a_bad_file_is_named_and_stops_the_start(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "payer_members.json").write_text('{"members": {"PAYERA01": ')
    with pytest.raises(user_data.UserDataError, match=r"payer_members.json: not readable JSON \(JSONDecodeError"):
        user_data.prepare(folder)
    (folder / "payer_members.json").unlink()
    (folder / "fee_schedules" / f"{NEW_CLINIC}.csv").write_text("code,fee\n99213,1\n")
    with pytest.raises(user_data.UserDataError, match=r"clinic-newtown\.csv: missing column"):
        user_data.prepare(folder)


def _put_over_sftp(secret: dict[str, object], name: str, body: str) -> None:
    async def put() -> None:
        async with (
            asyncssh.connect(
                str(secret["host"]),
                port=int(str(secret["port"])),
                username=str(secret["username"]),
                password=str(secret["password"]),
                known_hosts=None,  # a test client of our own 127.0.0.1 server
            ) as conn,
            conn.start_sftp_client() as sftp,
            sftp.open(f"outbound/{name}", "w") as f,
        ):
            await f.write(body)

    asyncio.run(put())


def test_without_the_payer_a_persons_answers_drive_the_claim(tmp_path: Path) -> None:
    record = json.loads(SAMPLE.read_text())[0]
    record.update(clinic_id=NEW_CLINIC, encounter_id="NT-1")
    record["coverage"]["member_id"] = NEW_MEMBER
    data = user_data.prepare(_folder(tmp_path))
    try:
        with LocalRuntime(payer=False, user_data=data) as rt:
            wiring.reset()
            rt.upload(f"{config.ENCOUNTERS_PREFIX}newtown.json", json.dumps([record]))
            rt.run_until_idle(timeout_s=120)
            (claim,) = wiring.repository().list_claims(limit=10).items
            assert claim.status == ClaimStatus.AWAITING_REMITTANCE  # coded with the new clinic's fees
            assert claim.total_charge is not None and claim.total_charge > 0
            (sent,) = rt.simulator.server.files("inbound")  # nobody took it
            assert claim.filing is not None and claim.filing.outbox_key == f"{config.OUTBOX_837_PREFIX}{sent}"

            text = (rt.simulator.server.root / "inbound" / sent).read_text()
            rejected = {claim.claim_id: [StatusCode(category="A7", code="562", entity="85")]}
            answer = write_277ca(
                text, control_numbers=ControlNumbers(900, 900), created=claim.created_at, rejected=rejected
            )
            _put_over_sftp(rt.simulator.server.secret(use_key=False), "mine.277", answer)
            rt.run_until(lambda: wiring.repository().get_claim(claim.claim_id).status == ClaimStatus.FOLLOW_UP, 90)
            done = wiring.repository().get_claim(claim.claim_id)
            assert done.follow_up_action == "correct_and_resubmit"
            assert [(a.kind, a.verdict, a.codes) for a in done.acknowledgements] == [
                ("277CA", "rejected", ["A7:562:85"])
            ]
            assert [k for k in rt.list_keys(config.ACK_277CA_PREFIX) if k.endswith("-mine.277")]
            assert rt.simulator.server.files("outbound") == []  # fetched once, archived
    finally:
        data.cleanup()
