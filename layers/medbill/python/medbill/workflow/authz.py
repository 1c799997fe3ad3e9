"""Who may do what in the staff API: roles, clinic membership and one policy per route.

Staff sign in to a Cognito user pool. Their groups say two things (docs/decisions.md, "staff
identity"):

- a role: `viewer` < `biller` < `billing_manager` < `admin` (the highest group wins);
- clinic membership: one group `clinic:<clinic_id>` per clinic; `admin` sees every clinic.

`POLICIES` maps every route (method, OpenAPI path) to the least role it needs and the key that
scopes it (a claim, a clinic listing, an ERA, nothing). The API applies it in one middleware, and a
test checks that every route the API serves has an entry. Out of scope answers as not found: a user
of clinic A learns nothing about clinic B's claims, not even that they exist.

Plain Python (no Powertools): the claims come from API Gateway's Cognito authorizer in AWS
(`requestContext.authorizer.claims`) and from the local API server's JWT check on the laptop, in
the same shape.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, TypeVar

from medbill.billing.era_queries import list_eras
from medbill.models.claim import Claim
from medbill.models.status import ClaimStatus
from medbill.ports import BadPageToken, ClaimStore, EraStore, Page

T = TypeVar("T")


class Role(IntEnum):
    VIEWER = 1
    BILLER = 2
    BILLING_MANAGER = 3
    ADMIN = 4

    @property
    def group(self) -> str:
        return self.name.lower()


CLINIC_GROUP_PREFIX = "clinic:"
ROLE_GROUPS = {role.group: role for role in Role}
_CLINIC_ID = re.compile(r"^[A-Za-z0-9_-]{1,30}$")


class Unauthenticated(Exception):
    """No verified identity on the request (API Gateway answers 401 before us; so do we)."""


class Forbidden(Exception):
    """The caller's role does not allow the action (403; names the role needed, nothing else)."""


class OutOfScope(Exception):
    """The resource is outside the caller's clinics: answered exactly like a missing one (404)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


@dataclass(frozen=True)
class StaffUser:
    user_id: str  # the Cognito `sub`: stable, never reused
    name: str  # the user name people know (cognito:username)
    role: Role
    clinics: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def actor(self) -> str:
        """How the user appears on a claim's timeline: name and id, e.g. `staff:jbiller:3f2a...`."""
        return f"staff:{self.name}:{self.user_id}"

    def sees_clinic(self, clinic_id: str | None) -> bool:
        return self.is_admin or (clinic_id is not None and clinic_id in self.clinics)

    def visible_clinics(self, requested: str | None) -> list[str] | None:
        """The clinics a listing covers: None = every clinic (admins without a filter); a
        requested clinic outside the user's answers as an empty scope (not an error that
        confirms the clinic exists)."""
        if requested is not None:
            return [requested] if self.sees_clinic(requested) else []
        return None if self.is_admin else sorted(self.clinics)


def _groups(value: Any) -> list[str]:
    """`cognito:groups` as API Gateway passes it (a string: "a,b" or "[a b]") or as a JWT list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [g for g in re.split(r"[,\s]+", value.strip().strip("[]")) if g]
    if isinstance(value, Iterable):
        return [str(g) for g in value]
    return []


def staff_user(claims: Mapping[str, Any] | None) -> StaffUser:
    """The caller from verified token claims; Unauthenticated without a subject, Forbidden
    without a role group (a signed-in user nobody has given a role yet)."""
    if not claims or not claims.get("sub"):
        raise Unauthenticated("no verified identity")
    groups = _groups(claims.get("cognito:groups"))
    roles = [ROLE_GROUPS[g] for g in groups if g in ROLE_GROUPS]
    if not roles:
        raise Forbidden("the user has no staff role")
    clinics = frozenset(
        g[len(CLINIC_GROUP_PREFIX) :]
        for g in groups
        if g.startswith(CLINIC_GROUP_PREFIX) and _CLINIC_ID.match(g[len(CLINIC_GROUP_PREFIX) :])
    )
    name = str(claims.get("cognito:username") or claims.get("username") or claims["sub"])
    return StaffUser(user_id=str(claims["sub"]), name=name, role=max(roles), clinics=clinics)


# --- the policy table -----------------------------------------------------------------------------

# What scopes a route: the claim named in the path, the clinic of a listing, the ERA in the path,
# the office-wide ERA / unmatched listings (filtered or refused per user), the admin-only views.
SCOPE_CLAIM = "claim"
SCOPE_CLINIC_LISTING = "clinic_listing"
SCOPE_ERA = "era"
SCOPE_OFFICE = "office"  # not tied to one clinic's key: the role alone decides (see the table)
# The clinic named by the path (`clinic_id`) or the query (`clinic`): one of the user's clinics.
SCOPE_CLINIC = "clinic"
SCOPES = (SCOPE_CLAIM, SCOPE_CLINIC_LISTING, SCOPE_ERA, SCOPE_OFFICE, SCOPE_CLINIC)


@dataclass(frozen=True)
class Policy:
    role: Role
    scope: str
    audit_read: str | None = None  # record who read it: the action named in the access audit


POLICIES: dict[tuple[str, str], Policy] = {
    # claims
    ("GET", "/claims"): Policy(Role.VIEWER, SCOPE_CLINIC_LISTING),
    ("GET", "/claims/{claim_id}"): Policy(Role.VIEWER, SCOPE_CLAIM, audit_read="read_claim"),
    ("GET", "/claims/{claim_id}/ledger"): Policy(Role.VIEWER, SCOPE_CLAIM, audit_read="read_ledger"),
    ("GET", "/claims/{claim_id}/access-log"): Policy(Role.ADMIN, SCOPE_CLAIM),
    ("POST", "/claims/{claim_id}/recheck"): Policy(Role.BILLER, SCOPE_CLAIM),
    # Recovery: retrying a FAILED claim re-runs idempotent stages only (nothing filed or posted twice),
    # like a recheck: a biller's. Stuck claims (MarkFailed failed) span clinics, filtered per user.
    ("POST", "/claims/{claim_id}/retry"): Policy(Role.BILLER, SCOPE_CLAIM),
    ("GET", "/worklists/stuck-claims"): Policy(Role.BILLING_MANAGER, SCOPE_OFFICE),
    # ERAs: a payment to a clinic's payee (billing provider NPI / TIN, from the clinic profiles).
    # The ERA list is each of the user's clinics' ERAs by key (an admin's: the office's list); an
    # ERA is in a non-admin's scope when its payee is one of their clinics (docs/decisions.md).
    ("GET", "/eras"): Policy(Role.VIEWER, SCOPE_CLINIC_LISTING),
    ("GET", "/eras/{era_id}"): Policy(Role.VIEWER, SCOPE_ERA, audit_read="read_era"),
    ("POST", "/eras/{era_id}/release"): Policy(Role.BILLING_MANAGER, SCOPE_ERA),
    # unmatched remittance: by definition it names no claim of ours, so no clinic: managers only.
    ("GET", "/worklists/unmatched-remittance"): Policy(Role.BILLING_MANAGER, SCOPE_OFFICE),
    # matching also needs the target claim in scope (checked on the body's claim_id).
    ("POST", "/worklists/unmatched-remittance/{remittance_id}/match"): Policy(Role.BILLING_MANAGER, SCOPE_OFFICE),
    # reports: computed from the claims the user may see (their clinics; admins: all or one)
    ("GET", "/reports/ar-aging"): Policy(Role.VIEWER, SCOPE_CLINIC_LISTING),
    ("GET", "/reports/kpis"): Policy(Role.VIEWER, SCOPE_CLINIC_LISTING),
    ("GET", "/reports/stage-times"): Policy(Role.VIEWER, SCOPE_CLINIC_LISTING),
    # who am I: name, role, clinics (the console shows them and hides actions the role lacks)
    ("GET", "/me"): Policy(Role.VIEWER, SCOPE_OFFICE),
    # A clinic's own settings and input, scoped by the clinic in the path or query: its staff read
    # the profile, its managers change it, its billers send FHIR bundles and upload encounter files.
    ("GET", "/clinics/{clinic_id}/profile"): Policy(Role.VIEWER, SCOPE_CLINIC),
    ("PUT", "/clinics/{clinic_id}/profile"): Policy(Role.BILLING_MANAGER, SCOPE_CLINIC),
    ("POST", "/fhir/Bundle"): Policy(Role.BILLER, SCOPE_CLINIC),
    ("POST", "/clinics/{clinic_id}/uploads"): Policy(Role.BILLER, SCOPE_CLINIC),
    ("GET", "/clinics/{clinic_id}/uploads/{upload_id}"): Policy(Role.VIEWER, SCOPE_CLINIC),
    # Follow-up actions on one claim (issue 10). Approving a write-off above the threshold is a
    # manager's (and never the requester's: billing.writeoffs); requesting one, corrections and
    # patient money are a biller's. (Retrying a FAILED claim: the recovery rows above.)
    ("POST", "/claims/{claim_id}/corrections"): Policy(Role.BILLER, SCOPE_CLAIM),
    # A re-sent encounter that changed (the resent_changed worklist): kept or corrected, a biller's.
    ("POST", "/claims/{claim_id}/resent-changes/resolve"): Policy(Role.BILLER, SCOPE_CLAIM),
    ("POST", "/claims/{claim_id}/adjustments"): Policy(Role.BILLER, SCOPE_CLAIM),
    ("POST", "/claims/{claim_id}/adjustments/{request_id}/approve"): Policy(Role.BILLING_MANAGER, SCOPE_CLAIM),
    ("POST", "/claims/{claim_id}/patient-payments"): Policy(Role.BILLER, SCOPE_CLAIM),
    ("POST", "/claims/{claim_id}/patient-refunds"): Policy(Role.BILLER, SCOPE_CLAIM),
    # Worklists by action: each of the user's clinics' part by key (by-clinic-worklist).
    ("GET", "/worklists/{name}"): Policy(Role.VIEWER, SCOPE_CLINIC_LISTING),
}


def policy_for(method: str, path: str) -> Policy | None:
    return POLICIES.get((method.upper(), path))


def authorize(user: StaffUser, policy: Policy | None) -> None:
    """Role check; a route with no policy is refused (deny by default)."""
    if policy is None:
        raise Forbidden("no access policy for this route")
    if user.role < policy.role:
        raise Forbidden(f"requires role {policy.role.group}")


def require_claim_scope(user: StaffUser, claim_id: str, clinic_id: str | None) -> None:
    if not user.sees_clinic(clinic_id):
        raise OutOfScope(f"claim {claim_id} not found")


def require_clinic_scope(user: StaffUser, clinic_id: str | None) -> None:
    """A clinic named by the request: out of scope answers like an unknown clinic (404)."""
    if not clinic_id or not user.sees_clinic(clinic_id):
        raise OutOfScope(f"clinic {clinic_id or '(none)'} not found")


def require_era_scope(user: StaffUser, era_id: str, era_clinics: Iterable[str]) -> None:
    """An ERA is in a non-admin's scope when its payee is one of their clinics."""
    if user.is_admin:
        return
    if not any(user.sees_clinic(c) for c in era_clinics):
        raise OutOfScope(f"ERA {era_id} not found")


def era_clinics(store: EraStore, era_id: str) -> list[str]:
    """The clinics an ERA belongs to: those billing under the payee NPI it pays (N1*PE). A missing
    ERA, an unreadable file or an unknown payee belongs to no clinic (admins only)."""
    header = store.get_era(era_id)
    return store.payee_clinics(str(header.get("payee_npi") or "")) if header else []


# --- listings scoped by key -------------------------------------------------------------------------


def _encode(index: int, inner: str | None) -> str:
    raw = json.dumps({"i": index, "t": inner}, separators=(",", ":")).encode()
    return "m." + base64.urlsafe_b64encode(raw).decode("ascii")


def _decode(token: str, parts: int) -> tuple[int, str | None]:
    try:
        if not token.startswith("m."):
            raise ValueError("not a multi-key token")
        data = json.loads(base64.urlsafe_b64decode(token[2:].encode("ascii")))
        index, inner = int(data["i"]), data["t"]
    except (ValueError, KeyError, TypeError, binascii.Error) as err:
        raise BadPageToken("next_token is not a token this listing issued") from err
    if not 0 <= index < parts or not (inner is None or isinstance(inner, str)):
        raise BadPageToken("next_token belongs to another listing")
    return index, inner


def walk_keys(
    parts: Sequence[str], fetch: Callable[[str, int, str | None], Page], *, limit: int, next_token: str | None
) -> Page:
    """One listing over several keys (clinics, statuses), one key after the other: each part is a
    keyed query, and the token says which part and where in it."""
    items, token = walk(parts, lambda p, n, t: _pair(fetch(p, n, t)), limit=limit, next_token=next_token)
    return Page(items=items, next_token=token)


def _pair(page: Page) -> tuple[list[Claim], str | None]:
    return page.items, page.next_token


def walk(
    parts: Sequence[str],
    fetch: Callable[[str, int, str | None], tuple[list[T], str | None]],
    *,
    limit: int,
    next_token: str | None,
) -> tuple[list[T], str | None]:
    if not parts:
        return [], None
    index, inner = _decode(next_token, len(parts)) if next_token else (0, None)
    items: list[T] = []
    while index < len(parts) and len(items) < limit:
        got, more = fetch(parts[index], limit - len(items), inner)
        items.extend(got)
        if more:
            return items, _encode(index, more)
        index, inner = index + 1, None
    return items, _encode(index, None) if index < len(parts) else None


# Every claim status, in workflow order: an admin's unfiltered listing walks the by-status index
# status by status (never a table scan).
ALL_STATUSES: tuple[str, ...] = tuple(s.value for s in ClaimStatus)


def list_visible_claims(
    store: ClaimStore,
    user: StaffUser,
    *,
    status: str | None = None,
    clinic_id: str | None = None,
    limit: int = 50,
    next_token: str | None = None,
) -> Page:
    """Claims the user may see, always through a key: one clinic is the store's by-clinic listing
    (or by-status for that clinic); several clinics are listed one after the other; an admin without
    a clinic gets the by-status listing (every status in turn when none is asked for)."""
    clinics = user.visible_clinics(clinic_id)
    if clinics is None:
        if status:
            return store.list_claims(status=status, limit=limit, next_token=next_token)
        return walk_keys(
            ALL_STATUSES,
            lambda s, n, t: store.list_claims(status=s, limit=n, next_token=t),
            limit=limit,
            next_token=next_token,
        )
    if len(clinics) == 1:
        return store.list_claims(status=status, clinic_id=clinics[0], limit=limit, next_token=next_token)
    return walk_keys(
        clinics,
        lambda c, n, t: store.list_claims(status=status, clinic_id=c, limit=n, next_token=t),
        limit=limit,
        next_token=next_token,
    )


def list_visible_worklist(
    store: ClaimStore,
    user: StaffUser,
    name: str,
    *,
    clinic_id: str | None = None,
    limit: int = 50,
    next_token: str | None = None,
) -> Page:
    """A follow-up worklist for the user: the office's (by-worklist) for an admin without a clinic,
    else each of their clinics' part (by-clinic-worklist) in turn, money at stake first within each."""
    clinics = user.visible_clinics(clinic_id)
    if clinics is None:
        return store.worklist(name, limit=limit, next_token=next_token)
    if len(clinics) == 1:
        return store.worklist(name, clinic_id=clinics[0], limit=limit, next_token=next_token)
    return walk_keys(
        clinics,
        lambda c, n, t: store.worklist(name, clinic_id=c, limit=n, next_token=t),
        limit=limit,
        next_token=next_token,
    )


def list_visible_eras(
    store: EraStore, user: StaffUser, *, clinic_id: str | None = None, limit: int = 50, next_token: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """ERA payments the user may see, newest first: the office's list for an admin without a clinic,
    else each of their clinics' list (ERAs paid to its payee) in turn."""
    clinics = user.visible_clinics(clinic_id)
    if clinics is None or len(clinics) == 1:
        return list_eras(store, clinic_id=clinics[0] if clinics else None, limit=limit, next_token=next_token)
    return walk(
        clinics,
        lambda c, n, t: list_eras(store, clinic_id=c, limit=n, next_token=t),
        limit=limit,
        next_token=next_token,
    )


def all_visible_claims(
    store: ClaimStore, user: StaffUser, *, clinic_id: str | None = None, page_size: int = 100
) -> list[Claim]:
    """Every claim of the listing `list_visible_claims` pages through (the reports read them all)."""
    claims: list[Claim] = []
    token: str | None = None
    while True:
        page = list_visible_claims(store, user, clinic_id=clinic_id, limit=page_size, next_token=token)
        claims.extend(page.items)
        if not (token := page.next_token):
            return claims
