"""Writes medbill/data/claim_status/category.csv and status.csv (X12 code sources 507, 508)
from pyx12 codes.xml in ../shared/reference-data, with the common codes described; updates manifest.json."""

import csv
import hashlib
import json
import re
from pathlib import Path

root = Path("layers/medbill/python/medbill/data/claim_status")
root.mkdir(exist_ok=True)
xml = Path("/work/shared/reference-data/remittance_codes/pyx12_codes.xml").read_text()


def codeset(name):
    body = xml.split(f"<id>{name}</id>")[1].split("</codeset>")[0]
    return re.findall(r"<code>([^<]+)</code>", body)


cats = {
    "A0": "Acknowledgement/Forwarded: the claim was forwarded to another entity",
    "A1": "Acknowledgement/Receipt: the claim was received (not yet accepted for adjudication)",
    "A2": "Acknowledgement/Acceptance into adjudication system",
    "A3": "Acknowledgement/Returned as unprocessable claim",
    "A4": "Acknowledgement/Not found",
    "A5": "Acknowledgement/Split claim",
    "A6": "Acknowledgement/Rejected for missing information",
    "A7": "Acknowledgement/Rejected for invalid information",
    "A8": "Acknowledgement/Rejected for relational field in error",
    "D0": "Data search unsuccessful",
    "E0": "Response not possible: error on submitted request data",
    "E1": "Response not possible: system status",
    "E2": "Information holder is not responding; resubmit at a later time",
    "E3": "Correction required: relational fields in error",
    "E4": "Trading partner agreement specific requirement not met: data correction required",
    "F0": "Finalized",
    "F1": "Finalized/Payment",
    "F2": "Finalized/Denial",
    "F3": "Finalized/Revised",
    "F3F": "Finalized/Forwarded",
    "F3N": "Finalized/Not forwarded",
    "F4": "Finalized/Adjudication complete: no payment forthcoming",
    "F5": "Finalized/Cannot process",
    "P0": "Pending: adjudication/details",
    "P1": "Pending/In process",
    "P2": "Pending/Payer review",
    "P3": "Pending/Provider requested information",
    "P4": "Pending/Patient requested information",
    "P5": "Pending/Payer administrative or system hold",
    "R0": "Requests for additional information/General requests",
    "R1": "Requests for additional information/Entity requests",
    "R3": "Requests for additional information/Claim or line",
    "R4": "Requests for additional information/Documentation",
    "R5": "Requests for additional information/More specific detail",
    "RQ": "General questions (yes/no responses)",
}
status = {
    "0": "Cannot provide further status electronically",
    "1": "For more detailed information, see remittance advice",
    "2": "More detailed information in letter",
    "3": "Claim has been adjudicated and is awaiting payment cycle",
    "6": "Balance due from the subscriber",
    "12": "One or more originally submitted procedure codes have been combined",
    "15": "One or more originally submitted procedure codes have been modified",
    "16": "Claim/encounter has been forwarded to entity",
    "17": "Claim/encounter has been forwarded by third party entity to entity",
    "18": "Entity received claim/encounter, but returned invalid status",
    "19": "Entity acknowledges receipt of claim/encounter",
    "20": "Accepted for processing",
    "21": "Missing or invalid information",
    "23": "Returned to entity",
    "24": "Entity not approved as an electronic submitter",
    "25": "Entity not approved",
    "26": "Entity not found",
    "27": "Policy canceled",
    "29": "Subscriber and policy number/contract number mismatched",
    "30": "Subscriber and subscriber id mismatched",
    "31": "Subscriber and policyholder name mismatched",
    "32": "Subscriber and policy number/contract number not found",
    "33": "Subscriber and subscriber id not found",
    "34": "Subscriber and policyholder name not found",
    "35": "Claim/encounter not found",
    "39": "Awaiting next periodic adjudication cycle",
    "41": "Special handling required at payer site",
    "42": "Awaiting related charges",
    "44": "Charges pending provider audit",
    "45": "Awaiting benefit determination",
    "46": "Internal review/audit",
    "52": "Investigating existence of other insurance coverage",
    "54": "Duplicate of a previously processed claim/line",
    "56": "Awaiting eligibility determination",
    "65": "Claim/line has been paid",
    "78": "Duplicate of an existing claim/line, awaiting processing",
    "84": "Service not authorized",
    "85": "Entity not primary",
    "86": "Diagnosis and patient gender mismatch",
    "88": "Entity not eligible for benefits for submitted dates of service",
    "97": "Patient eligibility not found with entity",
    "101": "Claim was processed as adjustment to previous claim",
    "104": "Processed according to plan provisions",
    "107": "Processed according to contract provisions",
    "109": "Entity not eligible",
    "116": "Claim submitted to incorrect payer",
    "123": "Additional information requested from entity",
    "145": "Entity's primary identifier",
    "153": "Entity's id number",
    "164": "Entity's contract/member number",
    "187": "Date(s) of service",
    "247": "Line item(s)",
    "249": "Place of service code",
    "255": "Diagnosis code",
    "400": "Claim is out of balance",
    "454": "Procedure code for services rendered",
    "458": "Total charges",
    "484": "Business application currently not available",
    "562": "Entity's National Provider Identifier (NPI)",
}
manifest = {}
for name, codes, desc, version in (
    ("category.csv", codeset("claim_status_cat"), cats, "X12 507 (pyx12 codes.xml)"),
    ("status.csv", codeset("claim_status"), status, "X12 508 (pyx12 codes.xml)"),
):
    missing = set(desc) - set(codes)
    assert not missing, missing
    path = root / name
    with path.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["code", "description"])
        for c in codes:
            w.writerow([c, desc.get(c, "")])
    manifest[name] = {
        "rows": len(codes),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "source": "pyx12 4.0.0 codes.xml (code values); the common codes described from the X12 list, others blank",
        "version": version,
    }
(root / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
print({k: v["rows"] for k, v in manifest.items()})
