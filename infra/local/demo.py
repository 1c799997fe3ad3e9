"""`make demo`: the whole claim lifecycle on this machine, start to finish, in about a minute.

Uploads the sample encounter files from events/encounters/, lets intake, the claim state machine,
the payer/clearinghouse simulator (837P in; 999, 277CA and 835 out) and payment posting run, then
prints a summary and writes everything produced to demo-output/.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from infra import config
from infra.local import console_shot, demo_clearinghouse
from infra.local.runtime import LocalRuntime, Progress

SAMPLES = config.REPO_ROOT / "events" / "encounters"
OUTPUT = config.REPO_ROOT / "demo-output"
ZERO = Decimal("0.00")

# Where each kind of produced file goes under demo-output/.
EXPORTS = {
    config.OUTBOX_837_PREFIX: "837p",
    config.ACK_999_PREFIX: "999",
    config.ACK_277CA_PREFIX: "277ca",
    config.ERA_PREFIX: "835",
    config.REJECTIONS_PREFIX: "rejections",
    config.ERA_REPORTS_PREFIX: "era-reports",
    config.OUTBOX_276_PREFIX: "276",
    config.STATUS_277_PREFIX: "277",
}


# The demo prints its own progress: handlers log warnings only, and metrics stay quiet.
QUIET_HANDLERS = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}


def _quiet_logs() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.update(QUIET_HANDLERS)


def _progress_line(p: Progress) -> str:
    done = {k: v for k, v in sorted(p.executions.items())}
    return (
        f"  {p.elapsed_s:6.1f}s  executions {json.dumps(done)}  waiting on payer/staff {p.waiting}"
        f"  working {p.busy}  messages {p.messages}  payer files {p.payer_files}"
    )


def run(
    samples: Path, output: Path, timeout_s: float, clearinghouse: Path | None = demo_clearinghouse.SAMPLES
) -> dict[str, Any]:
    from medbill.entry import wiring

    files = sorted(p for p in samples.iterdir() if p.suffix in (".json", ".csv", ".jsonl"))
    print(f"medbill demo: {len(files)} encounter files from {_display(samples)}/")
    started = time.monotonic()
    with LocalRuntime(extra_env=QUIET_HANDLERS, timeouts=demo_clearinghouse.TIMEOUTS) as rt:
        wiring.reset()
        for path in files:
            key = f"{config.ENCOUNTERS_PREFIX}{path.name}"
            rt.upload(key, path.read_bytes())
            print(f"  uploaded s3://{rt.resources.bucket}/{key}")
        clearinghouse_keys = demo_clearinghouse.upload(rt, clearinghouse)
        last = [0.0]

        def show(p: Progress) -> None:
            if p.elapsed_s - last[0] >= 1.0 or p.messages or p.payer_files:
                last[0] = p.elapsed_s
                print(_progress_line(p), flush=True)

        rt.run_until_idle(timeout_s=timeout_s, on_progress=show)
        inquiry = demo_clearinghouse.ask_claim_status(rt, timeout_s) if clearinghouse_keys else None
        summary = _summarize(rt)
        demo_clearinghouse.split(summary, clearinghouse_keys, inquiry)
        _export(rt, output, summary)
        shot = console_shot.screenshot(rt.bridge, output)  # the staff console's work queues
        print(f"  console screenshot {_display(shot)}" if shot else "  console screenshot skipped: no chromium")
    summary["elapsed_seconds"] = round(time.monotonic() - started, 1)
    (output / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    _print_summary(summary, output)
    return summary


def _summarize(rt: LocalRuntime) -> dict[str, Any]:
    from medbill.billing.era import reconciliation
    from medbill.entry import wiring

    repo = wiring.repository()
    claims: list[dict[str, Any]] = []
    page = repo.list_claims(limit=100)
    items = list(page.items)
    while page.next_token:
        page = repo.list_claims(limit=100, next_token=page.next_token)
        items += page.items
    totals = {"billed": ZERO, "paid": ZERO, "adjustments": ZERO, "patient_responsibility": ZERO}
    for claim in sorted(items, key=lambda c: (c.clinic_id, c.encounter_id)):
        billed = claim.total_charge or ZERO
        row: dict[str, Any] = {
            "claim_id": claim.claim_id,
            "clinic_id": claim.clinic_id,
            "encounter_id": claim.encounter_id,
            "payer_id": claim.payer_id,
            "status": claim.status.value,
            "billed": f"{billed:.2f}",
            "paid": f"{claim.paid_amount:.2f}",
            "adjustments": f"{claim.adjustment_amount:.2f}",
            "patient_responsibility": f"{claim.patient_responsibility:.2f}",
            "adjustment_codes": [f"{a.group}-{a.reason} {a.amount:.2f}" for a in claim.adjustments],
            "note": claim.follow_up_action or "; ".join(claim.hold_reasons) or claim.remittance_outcome or "",
        }
        claims.append(row)
        totals["billed"] += billed
        totals["paid"] += claim.paid_amount
        totals["adjustments"] += claim.adjustment_amount
        totals["patient_responsibility"] += claim.patient_responsibility
    rejected: list[dict[str, Any]] = []
    for key in rt.list_keys(config.REJECTIONS_PREFIX):
        report = json.loads(rt.read(key))
        source = report.get("source_key", key)
        if report.get("file_error"):
            rejected.append({"source_key": source, "record": None, "field": None, "reason": report["file_error"]})
        for r in report.get("rejections", []):
            rejected.append(
                {"source_key": source, "record": r["record_number"], "field": r.get("field"), "reason": r["reason"]}
            )
    eras = []
    headers, token = repo.list_eras(limit=100)
    while token:
        more, token = repo.list_eras(limit=100, next_token=token)
        headers += more
    for header in sorted(headers, key=lambda h: h["era_id"]):
        rec = reconciliation(repo, header["era_id"]) or {}
        eras.append(
            {
                k: rec.get(k)
                for k in (
                    "era_id",
                    "era_status",
                    "total_paid",
                    "posted_total",
                    "unmatched_total",
                    "plb_total",
                    "difference",
                    "reconciled",
                )
            }
        )
    statuses: dict[str, int] = {}
    for row in claims:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    return {
        "claims": claims,
        "totals": {k: f"{v:.2f}" for k, v in totals.items()},
        "statuses": statuses,
        "rejected_records": rejected,
        "eras": eras,
        "dead_letter_queues": rt.poller.dlq_depths(),
        "handler_failures": len(rt.failures),
    }


def _export(rt: LocalRuntime, output: Path, summary: dict[str, Any]) -> None:
    if output.exists():
        shutil.rmtree(output)
    output.mkdir(parents=True)
    for prefix, folder in EXPORTS.items():
        for key in rt.list_keys(prefix):
            target = output / folder / key[len(prefix) :].replace("/", "__")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(rt.read(key))


def _display(path: Path) -> str:
    """The path as a person would type it from the repo root."""
    try:
        return str(path.relative_to(config.REPO_ROOT))
    except ValueError:
        return str(path)


def _print_summary(summary: dict[str, Any], output: Path) -> None:
    cols = [
        ("claim_id", 20),
        ("clinic_id", 17),
        ("payer_id", 9),
        ("status", 19),
        ("billed", 9),
        ("paid", 9),
        ("adjustments", 11),
        ("patient_responsibility", 12),
        ("note", 0),
    ]
    headers = {"patient_responsibility": "patient resp", "adjustments": "adjustments"}
    money = {"billed", "paid", "adjustments", "patient_responsibility"}

    def fmt(name: str, width: int, value: str) -> str:
        if not width:
            return value
        return value.rjust(width) if name in money else value.ljust(width)

    print()
    print("  ".join(fmt(n, w, headers.get(n, n)) for n, w in cols))
    print("  ".join("-" * (w or 30) for _, w in cols))
    for row in summary["claims"]:
        note = row["note"] if len(row["note"]) <= 70 else row["note"][:67] + "..."
        print("  ".join(fmt(n, w, note if n == "note" else str(row[n])) for n, w in cols))
    t = summary["totals"]
    print("  ".join("-" * (w or 30) for _, w in cols))
    total_row = {"claim_id": "TOTAL", "clinic_id": "", "payer_id": "", "status": "", "note": "", **t}
    print("  ".join(fmt(n, w, str(total_row[n])) for n, w in cols))
    print()
    print("ERA payments (BPR02 = posted + unmatched - PLB):")
    for era in summary["eras"]:
        mark = "reconciled" if era["reconciled"] else f"NOT reconciled, difference {era['difference']}"
        print(
            f"  {era['era_id']:<28} {era['era_status']:<22} paid {era['total_paid']:>9}"
            f"  posted {era['posted_total']:>9}  unmatched {era['unmatched_total']:>7}"
            f"  PLB {era['plb_total']:>6}  {mark}"
        )
    print("claims by status: " + ", ".join(f"{k} {v}" for k, v in sorted(summary["statuses"].items())))
    print(f"rejected records ({len(summary['rejected_records'])}):")
    for r in summary["rejected_records"]:
        where = f"record {r['record']}" if r["record"] else "whole file"
        field = f" [{r['field']}]" if r.get("field") else ""
        print(f"  {r['source_key']} {where}{field}: {r['reason']}")
    demo_clearinghouse.print_section(summary)
    print(f"dead-letter queues: {summary['dead_letter_queues']}; handler failures: {summary['handler_failures']}")
    print(f"\nEverything produced is in {_display(output)}/ (837p, 999, 277ca, 835, 276, 277,")
    print("rejections, era-reports, summary.json). Open the X12 files, or try:")
    print(f"  .venv/bin/medbill-x12 summary {_display(output)}/835/<file>")
    print(f"finished in {summary.get('elapsed_seconds', '?')}s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.demo", description=__doc__)
    parser.add_argument("--samples", type=Path, default=SAMPLES, help="folder of encounter files to upload")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write what the demo produced")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds to wait for the lifecycle")
    args = parser.parse_args(argv)
    _quiet_logs()
    try:
        summary = run(args.samples.resolve(), args.output.resolve(), args.timeout)
    except TimeoutError as err:
        print(f"demo did not finish: {err}", file=sys.stderr)
        return 1
    return 0 if not summary["handler_failures"] else 2


if __name__ == "__main__":
    sys.exit(main())
