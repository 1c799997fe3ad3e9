"""Staff identity from token claims: groups as API Gateway passes them, roles, clinics."""

from __future__ import annotations

import pytest

from medbill.workflow.authz import Forbidden, Role, Unauthenticated, authorize, policy_for, staff_user


@pytest.mark.parametrize(
    "groups",
    ["biller,clinic:north,clinic:lake", "[biller clinic:north clinic:lake]", ["biller", "clinic:north", "clinic:lake"]],
)
def test_groups_in_every_shape_the_claims_come_in(groups: object) -> None:
    user = staff_user({"sub": "u1", "cognito:username": "jo", "cognito:groups": groups})
    assert (user.role, user.clinics, user.actor) == (Role.BILLER, frozenset({"north", "lake"}), "staff:jo:u1")


def test_highest_role_wins_and_bad_clinic_names_are_ignored() -> None:
    user = staff_user({"sub": "u1", "cognito:groups": "viewer,billing_manager,clinic:../x,clinic:ok"})
    assert (user.role, user.clinics, user.name) == (Role.BILLING_MANAGER, frozenset({"ok"}), "u1")
    assert not user.sees_clinic("../x") and user.sees_clinic("ok") and not user.sees_clinic(None)


def test_no_subject_is_unauthenticated_and_no_role_is_forbidden() -> None:
    with pytest.raises(Unauthenticated):
        staff_user({"cognito:groups": "admin"})
    with pytest.raises(Unauthenticated):
        staff_user(None)
    with pytest.raises(Forbidden):
        staff_user({"sub": "u1", "cognito:groups": "clinic:north"})


def test_admin_sees_every_clinic_and_unknown_routes_are_denied() -> None:
    admin = staff_user({"sub": "a", "cognito:groups": "admin"})
    assert admin.sees_clinic("anything") and admin.visible_clinics(None) is None
    with pytest.raises(Forbidden):
        authorize(admin, policy_for("DELETE", "/claims/{claim_id}"))
    viewer = staff_user({"sub": "v", "cognito:groups": "viewer,clinic:x"})
    with pytest.raises(Forbidden, match="requires role biller"):
        authorize(viewer, policy_for("POST", "/claims/{claim_id}/recheck"))
