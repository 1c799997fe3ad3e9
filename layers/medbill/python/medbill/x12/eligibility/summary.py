"""JSON summaries and validation of 270/271 files for `medbill-x12 summary|validate`.

Summaries hold ids, codes, amounts, dates of coverage and the payer's and provider's names; never a
patient's name, birth date, member id or address, nor MSG free text (counted, not shown). A
benefit-related entity (2120C/D) shows its name only when it is an organization, and its id only
when the qualifier names a payer or provider id (PI, XX, SV, ...).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from medbill.x12.eligibility import codes as c
from medbill.x12.eligibility.models import Benefit, DatePeriod, EligibilityResponse, Member, Party, Rejection
from medbill.x12.eligibility.reader271 import EligibilityReader

__all__ = ["check_270", "check_271", "summarize_270", "summarize_271"]


def _code(value: str, table: Any) -> str | None:
    """A code as sent when it is in its table; otherwise only that it is unknown (it may be patient data)."""
    if not value:
        return None
    return value if value in table else f"(unknown code, {len(value)} characters)"


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _percent(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return format(value, "f") if 0 <= value <= 1 else "(out of range 0..1)"


def _date(d: DatePeriod) -> str:
    return f"{d.start}-{d.end}" if d.format == "RD8" else d.start


def _rejection(r: Rejection) -> dict[str, Any]:
    action = r.action
    return {
        "loop": r.loop,
        "code": _code(r.reason, c.REJECT_REASONS),
        "meaning": r.meaning,
        "valid_request": _code(r.valid_request, c.YES_NO_UNKNOWN),
        "follow_up": _code(r.follow_up, c.FOLLOW_UP_ACTIONS),
        "follow_up_meaning": r.follow_up_meaning,
        "action": action.value if action is not None else None,
        "retry_after_days": r.retry_after_days,
    }


def _party(p: Party) -> dict[str, Any]:
    out: dict[str, Any] = {"entity": _code(p.entity, c.RELATED_ENTITIES), "meaning": c.RELATED_ENTITIES.get(p.entity)}
    if p.entity_type == "2":
        out["name"] = p.name
    if p.id_qualifier in c.PUBLIC_ID_QUALIFIERS:
        out["id_qualifier"], out["id"] = p.id_qualifier, p.id
    return out


def _top(p: Party) -> dict[str, Any]:
    """A source (payer) or receiver (provider): organization or provider, so its name and id are shown."""
    return {
        "entity": _code(p.entity, c.RELATED_ENTITIES),
        "name": p.name,
        "id_qualifier": p.id_qualifier,
        "id": p.id,
        "rejections": [_rejection(r) for r in p.rejections],
    }


def _benefit(b: Benefit) -> dict[str, Any]:
    return {
        "code": _code(b.code, c.BENEFIT_CODES),
        "meaning": c.BENEFIT_CODES.get(b.code),
        "coverage_level": _code(b.coverage_level, c.COVERAGE_LEVELS),
        "service_types": [_code(s, c.SERVICE_TYPES) for s in b.service_types],
        "insurance_type": _code(b.insurance_type, c.INSURANCE_TYPES),
        "plan_description": b.plan_description or None,
        "time_period": _code(b.time_period, c.TIME_PERIODS),
        "time_period_meaning": c.TIME_PERIODS.get(b.time_period),
        "amount": _money(b.amount),
        "percent": _percent(b.percent),
        "quantity_qualifier": _code(b.quantity_qualifier, c.QUANTITY_QUALIFIERS),
        "quantity": _text(b.quantity),
        "network": c.NETWORK.get(b.in_network),
        "authorization_required": _code(b.authorization_required, c.YES_NO_UNKNOWN),
        "dates": {d.qualifier: _date(d) for d in b.dates},
        "rejections": [_rejection(r) for r in b.rejections],
        "entities": [_party(e) for e in b.entities],
        "message_count": len(b.messages),
    }


def _member(m: Member, status: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "hl": m.hl_id,
        "traces": m.trace_numbers,
        "status": status,
        "identity_corrected": m.identity_corrected,
        "plan": [
            {"qualifier": r.qualifier, "value": r.value, "name": r.description or None} for r in m.plan_references
        ],
        "plan_descriptions": sorted({b.plan_description for b in m.benefits if b.plan_description}),
        "dates": {name: _date(d) for name, d in m.plan_dates.items()},
        "rejections": [_rejection(r) for r in m.rejections],
        "benefits": [_benefit(b) for b in m.benefits],
    }
    if m.inquiries:
        out["service_types_asked"] = m.inquiries
    return out


def _response(resp: EligibilityResponse) -> dict[str, Any]:
    subscribers = []
    for answer in resp.iter_subscribers():  # streams; problems final afterwards
        sub = answer.subscriber
        item = _member(sub, answer.status(sub))
        item["dependents"] = [_member(d, answer.status(d)) for d in sub.dependents]
        subscribers.append(item)
    return {
        "control_number": resp.control_number,
        "reference": resp.reference,
        "version": resp.version,
        "sources": [_top(s) for s in resp.sources],
        "receivers": [_top(r) for r in resp.receivers],
        "subscribers": subscribers,
        "problems": resp.problems,
    }


def _summarize(text: str, set_id: str) -> dict[str, Any]:
    reader = EligibilityReader(text, set_id)
    key = "responses" if set_id == "271" else "inquiries"
    return {
        "transaction": set_id,
        key: [_response(r) for r in reader.responses()],
        "envelope_problems": reader.problems,
    }


def summarize_271(text: str) -> dict[str, Any]:
    """Per transaction: sources and receivers (with rejections), and per subscriber and dependent the
    status, plan, dates, every benefit (amount or percent, period, network) and rejections."""
    return _summarize(text, "271")


def summarize_270(text: str) -> dict[str, Any]:
    return _summarize(text, "270")


_SEGMENT = re.compile(r"segment (\d+)")


def _in_order(problems: list[str]) -> list[str]:
    def key(problem: str) -> int:
        found = _SEGMENT.search(problem)
        return int(found.group(1)) if found else 0

    return sorted(problems, key=key)


def _upper_verdicts(resp: EligibilityResponse) -> list[str]:
    out = []
    for kind, parties in (("information source", resp.sources), ("information receiver", resp.receivers)):
        for p in parties:
            for r in p.rejections:
                action = r.action.value if r.action else "unknown follow-up"
                # Quote the reason code only when it is in the table: an unknown AAA03 may hold anything.
                code = r.reason if r.reason in c.REJECT_REASONS else "(unlisted code)"
                out.append(f"{kind} rejected ({r.loop} AAA {code}: {r.meaning}; {action})")
    return out


def check_271(text: str) -> tuple[int, list[str], str]:
    """(transactions, problems in file order, what an OK line adds: member statuses and rejections)."""
    reader = EligibilityReader(text, "271")
    count, problems, verdicts = 0, [], []
    statuses = {"active": 0, "inactive": 0, "rejected": 0, "unknown": 0}
    subscribers = dependents = 0
    for resp in reader.responses():
        count += 1
        for answer in resp.iter_subscribers():
            subscribers += 1
            dependents += len(answer.subscriber.dependents)
            for member in answer.members():
                statuses[answer.status(member)] += 1
        problems.extend(resp.problems)
        verdicts.extend(_upper_verdicts(resp))
    problems.extend(reader.problems)
    counts = ", ".join(f"{n} {s}" for s, n in statuses.items() if n or s != "unknown")
    verdict = f"{subscribers} subscriber(s) and {dependents} dependent(s): {counts}"
    return count, _in_order(problems), "; ".join([*verdicts, verdict]) + ", "


def check_270(text: str) -> tuple[int, list[str], str]:
    """(transactions, problems, OK-line text): structure, codes, and each patient asks something."""
    reader = EligibilityReader(text, "270")
    count, problems, requests = 0, [], 0
    for resp in reader.responses():
        count += 1
        for answer in resp.iter_subscribers():
            for member in answer.members():
                if member.level == "dependent" or not member.dependents:
                    requests += 1
                    if not member.inquiries:
                        problems.append(f"HL at segment {member.hl_position}: the {member.level} asks nothing (no EQ).")
                    if not member.traces:
                        problems.append(f"HL at segment {member.hl_position}: no TRN trace number for the answer.")
        problems.extend(resp.problems)
    problems.extend(reader.problems)
    return count, _in_order(problems), f"{requests} request(s), "
