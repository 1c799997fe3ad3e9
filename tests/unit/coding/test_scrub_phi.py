"""No PHI in findings or logs: a claim that trips every rule, seeded with canary PHI."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from coding_builders import encounter, quarter_refs

from medbill.coding import scrub
from tests.factories import CANARY_DOB, CANARY_FIRST, CANARY_LAST, CANARY_MEMBER

SSN = "071234567"


def test_findings_quote_no_phi(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    refs = quarter_refs(
        tmp_path,
        ptp="column1_code,column2_code,deletion_date,modifier_indicator\n20611,20610,,1\n",
        mue="hcpcs_code,mue_units,mue_mai\n20610,1,2\n",
        hcpcs="hcpcs_code,date_added,date_term\nJ3301,1991-01-01,\n",
    )
    enc = encounter(
        ("20611", [], 1),
        ("20610", [], 2),
        ("G9999", [], 1),
        ("00790", [], "30.5"),
        diagnoses=["G63", "E11", "R53.8"],  # manifestation first, a category, a subcategory
        place_of_service="22",
        patient__address__state="QQ",
        patient__address__line1="PO Box 77",
        coverage__claim_filing_indicator="XX",
        billing_provider__tin=SSN,
        billing_provider__tin_qualifier="SY",
        billing_provider__address__line1="P.O. Box 5",
        billing_provider__taxonomy="207Q00001X",
    )
    result = scrub(enc, refs, None)
    rules = {f.rule_id for f in result.holds}
    assert rules >= {
        "DX-BILLABLE",
        "DX-MANIFESTATION",
        "SBR09-CODE",
        "STATE-CODE",
        "TAXONOMY-CODE",
        "BILLING-PO-BOX",
        "TIN-SSN-PERSON",
        "SERVICE-FACILITY",
        "FEE-SCHEDULE",
        "ANESTHESIA-MINUTES",
        "HCPCS-CODE",
        "NCCI-PTP",
        "NCCI-MUE-DAY",
    }
    text = json.dumps(result.as_dict()).upper() + " ".join(r.getMessage() for r in caplog.records).upper()
    for phi in (CANARY_LAST, CANARY_FIRST, CANARY_MEMBER, CANARY_DOB, "12 CANARY ROW", SSN, "QQ"):
        assert phi.upper() not in text, phi
    for code in ("G63", "E11", "R53.8", "R538"):  # diagnosis codes are PHI here: positions only
        assert code not in text, code
    assert "2026-11-02" not in text  # nor the date of service
    assert "DIAGNOSIS 1 IS A MANIFESTATION CODE" in text and "DIAGNOSIS 2 IS A CATEGORY" in text
