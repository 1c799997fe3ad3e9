"""Template helpers shared by the tests in tests/infra."""

from __future__ import annotations

from typing import Any

from tests.infra.conftest import Synth


def ref_id(value: Any) -> str:
    """Logical id inside {"Ref": id} or {"Fn::GetAtt": [id, attr]}."""
    if "Ref" in value:
        return str(value["Ref"])
    return str(value["Fn::GetAtt"][0])


def key_ids(synth: Synth) -> dict[str, str]:
    """Key purpose (data, logs, backup: the alias `alias/medbill-<purpose>`) -> the key's logical id."""
    out = {}
    for props in synth.props("AWS::KMS::Alias").values():
        out[props["AliasName"].removeprefix("alias/medbill-")] = ref_id(props["TargetKeyId"])
    return out


def functions_by_name(synth: Synth) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        p["FunctionName"]: (logical_id, p)
        for logical_id, p in synth.props("AWS::Lambda::Function").items()
        if isinstance(p.get("FunctionName"), str)
    }


def queues_by_name(synth: Synth) -> dict[str, tuple[str, dict[str, Any]]]:
    return {p["QueueName"]: (logical_id, p) for logical_id, p in synth.props("AWS::SQS::Queue").items()}


def statements(synth: Synth) -> list[dict[str, Any]]:
    """Every statement of every IAM policy (managed and inline) and resource policy in the template."""
    documents = [
        p["PolicyDocument"] for t in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy") for p in synth.props(t).values()
    ]
    documents += [p["PolicyDocument"] for p in synth.props("AWS::SQS::QueuePolicy").values()]
    documents += [p["PolicyDocument"] for p in synth.props("AWS::SNS::TopicPolicy").values()]
    documents += [p["KeyPolicy"] for p in synth.props("AWS::KMS::Key").values()]
    return [s for d in documents for s in d["Statement"]]


def actions_of(statement: dict[str, Any]) -> list[str]:
    acts = statement["Action"]
    return [acts] if isinstance(acts, str) else list(acts)


def resources_of(statement: dict[str, Any]) -> list[Any]:
    res = statement["Resource"]
    return res if isinstance(res, list) else [res]


def role_statements(synth: Synth) -> dict[str, list[dict[str, Any]]]:
    """Function name -> the statements of its role's managed policies."""
    role_of = {name: ref_id(p["Role"]) for name, (_, p) in functions_by_name(synth).items()}
    by_role: dict[str, list[dict[str, Any]]] = {}
    for props in synth.props("AWS::IAM::ManagedPolicy").values():
        for role in props.get("Roles", []):
            by_role.setdefault(ref_id(role), []).extend(props["PolicyDocument"]["Statement"])
    return {name: by_role.get(role, []) for name, role in role_of.items()}


def role_actions(synth: Synth) -> dict[str, set[str]]:
    """Function name -> every IAM action its role's policies allow."""
    return {name: {a for s in stmts for a in actions_of(s)} for name, stmts in role_statements(synth).items()}
