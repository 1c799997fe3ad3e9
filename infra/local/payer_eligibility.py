"""The payer simulator's eligibility answers: a 270 in, a 271 out, from its member data.

The member data is `medbill/data/eligibility_fixture.json` (payer id -> member id -> active, copay,
deductible remaining, plan: what the old fixture gateway answered from) with the plan details and
extra members of `payer_members.json` beside this module. It is read here, by the simulator, and no
longer by the gateway: the claim's eligibility stage asks over CAQH CORE (infra/local/core_endpoint.py).

Per member the 271 carries: EB*1 (plan in EB05) or EB*6; REF*18 plan and REF*1L group; DTP*346 /
347 plan dates; copay (B), coinsurance (A) and remaining deductible (C, EB06 29) for 30 and the
visit's service types, in network per EB12; EB*I for a service type the plan does not cover; EB*R
with a 2120C NM1*PRP naming another payer; INS*Y*18*001*25 with REF*Q4 (the id we sent) for a
corrected member id or name; AAA*N**75*C for an unknown member, AAA*N**79*C for an unknown payer
and AAA*N**42*R for a payer that cannot answer now.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from importlib import resources
from itertools import count
from pathlib import Path
from typing import Any

from medbill.x12.eligibility import Benefit, DatePeriod, Member, Party, Reference, Rejection, SubscriberResponse, Trace
from medbill.x12.eligibility.reader271 import parse_270
from medbill.x12.eligibility.writer271 import write_271
from medbill.x12.interchange import ControlNumbers
from medbill.x12.tokenizer import X12SyntaxError, tokenize

MEMBERS_PATH = Path(__file__).with_name("payer_members.json")
_control = count(1)


def load_members(path: Path | None = None) -> tuple[dict[str, dict[str, dict[str, Any]]], dict[str, dict[str, Any]]]:
    """(payer -> member -> answer, payer -> plan details): the packaged fixture plus the extras."""
    members: dict[str, dict[str, dict[str, Any]]] = json.loads(
        resources.files("medbill.data").joinpath("eligibility_fixture.json").read_text()
    )
    extra = json.loads((path or MEMBERS_PATH).read_text())
    for payer, more in extra.get("members", {}).items():
        members.setdefault(payer, {}).update(more)
    return members, extra.get("plans", {})


def is_270(text: str) -> bool:
    """The file holds a 270 (the simulator's outbox gets 837Ps, 276s and 270s alike)."""
    try:
        return any(seg.id == "ST" and seg.get(1) == "270" for seg in tokenize(text))
    except X12SyntaxError:
        return False


def _d8(iso: str) -> str:
    return iso.replace("-", "")


class EligibilityResponder:
    """Answers 270s from member data; `answers` counts the 271s written."""

    def __init__(self, path: Path | None = None, *, sender_id: str = "PAYERSIM") -> None:
        self.members, self.plans = load_members(path)
        self.sender_id = sender_id
        self.answers = 0

    def respond(self, x12_270: str, created: datetime | None = None) -> str:
        """The 271 for every member of the 270 (ValueError when the 270 has none)."""
        requests, _problems = parse_270(x12_270)
        answers = []
        for transaction in requests:
            for asked in transaction.subscribers:
                answers.append(self._answer(asked))
        if not answers:
            raise ValueError("the 270 asks about no member")
        number = next(_control)
        self.answers += 1
        return write_271(
            answers,
            sender_id=self.sender_id,
            receiver_id="MEDBILL",
            control_numbers=ControlNumbers(interchange=number, group=number),
            created=created or datetime.now(),
            reference=requests[0].reference or "REQ",
        )

    def _answer(self, asked: SubscriberResponse) -> SubscriberResponse:
        source = Party("PR", "2", asked.source.name or "PAYER", id_qualifier="PI", id=asked.source.id)
        receiver = Party("1P", "2", asked.receiver.name or "PROVIDER", id_qualifier="XX", id=asked.receiver.id)
        sub_in = asked.subscriber
        patient_in = sub_in.dependents[0] if sub_in.dependents else sub_in
        trace = next((t for t in patient_in.traces), None)
        sub = Member("subscriber", last_name=sub_in.last_name, first_name=sub_in.first_name, id_qualifier="MI")
        sub.member_id = sub_in.member_id
        patient = sub
        if patient_in is not sub_in:
            patient = Member("dependent", last_name=patient_in.last_name, first_name=patient_in.first_name)
            sub.dependents = [patient]
        if trace is not None:
            patient.traces = [Trace("2", trace.number, trace.originator)]
        payer = self.members.get(asked.source.id)
        service_types = [c for c in patient_in.inquiries if c != "30"]
        if payer is None:
            source.rejections = [Rejection("2100A", "N", "79", "C")]
        elif (entry := payer.get(sub_in.member_id)) is None:
            sub.rejections = [Rejection("2100C", "N", "75", "C")]
        elif entry.get("unable_to_respond"):
            sub.rejections = [Rejection("2100C", "N", "42", "R")]
        else:
            self._coverage(sub, patient, entry, self.plans.get(asked.source.id, {}), service_types)
        return SubscriberResponse(sub, source, receiver)

    def _coverage(
        self, sub: Member, patient: Member, entry: dict[str, Any], plan: dict[str, Any], service_types: list[str]
    ) -> None:
        name = str(entry.get("plan") or "")[:50]
        sub.references = [Reference("18", "PLAN01", name)]
        if plan.get("group_name"):
            sub.references.append(Reference("1L", "GRP01", plan["group_name"]))
        begin, end = entry.get("plan_begin", plan.get("plan_begin")), entry.get("plan_end", plan.get("plan_end"))
        sub.dates = [DatePeriod("346", "D8", _d8(begin))] if begin else []
        if end:
            sub.dates.append(DatePeriod("347", "D8", _d8(end)))
        if entry.get("corrected_member_id") or entry.get("corrected_last_name"):
            sub.references.append(Reference("Q4", sub.member_id))
            sub.member_id = entry.get("corrected_member_id") or sub.member_id
            sub.last_name = entry.get("corrected_last_name") or sub.last_name
            sub.maintenance = ("Y", "18", "001", "25")
        if not entry.get("active"):
            patient.benefits = [Benefit("6", "IND", ["30"], plan_description=name)]
            return
        network = plan.get("network", "Y")
        types = ["30", *service_types]
        benefits = [Benefit("1", "IND", types, "PR", name)]
        if entry.get("copay") is not None:
            benefits += [
                Benefit("B", "IND", [t], time_period="27", amount=Decimal(entry["copay"]), in_network=network)
                for t in types
            ]
        if plan.get("coinsurance"):
            benefits += [
                Benefit("A", "IND", [t], time_period="27", percent=Decimal(plan["coinsurance"]), in_network=network)
                for t in types
            ]
        if entry.get("deductible_remaining") is not None:
            benefits.append(
                Benefit(
                    "C",
                    "IND",
                    ["30"],
                    time_period="29",
                    amount=Decimal(entry["deductible_remaining"]),
                    in_network=network,
                )
            )
        for code in entry.get("not_covered", []):
            benefits.append(Benefit("I", "IND", [code]))
        other = entry.get("other_payer")
        if other:
            benefits.append(
                Benefit(
                    "R", "IND", ["30"], entities=[Party("PRP", "2", other["name"], id_qualifier="PI", id=other["id"])]
                )
            )
        patient.benefits = benefits
