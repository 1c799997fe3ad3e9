"""What a deployment chooses: its stage, the 837P envelope identity from the deploying shell, and
the options read from cdk context or the environment.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from pydantic import ValidationError

from medbill.entry.settings import DEMO_IDENTITY, IDENTITY_VARIABLES, EnvelopeSettings, SettingsError, variables
from medbill.entry.settings import ClearinghouseSettings as _ClearinghouseSettings

# --- Clearinghouse envelope (837P ISA/GS): defined with the Lambda settings, re-exported here ----
ClearinghouseSettings = _ClearinghouseSettings


# --- Deployment stage and the 837P envelope identity -------------------------------------------
# The shell that runs `cdk synth` / `cdk deploy` (or the local runtime) names the stage and the
# clearinghouse identity with the same X12_* variables the submission function reads (README,
# "Deploying"). A prod stage writes ISA15=P and refuses to synthesize without a real identity; any
# other stage (demo, dev, test) writes T, whatever X12_USAGE_INDICATOR says.
STAGE_VARIABLE = "MEDBILL_STAGE"
PRODUCTION_STAGES = frozenset({"prod", "production"})


class ProductionIdentityMissing(RuntimeError):
    """A production stage without a real envelope identity: names the variables, never values."""


def deployment_stage(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return env.get(STAGE_VARIABLE, "demo").strip().lower() or "demo"


def envelope_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The X12_* variables for the submission function, from the deploying environment."""
    env = os.environ if environ is None else environ
    production = deployment_stage(env) in PRODUCTION_STAGES
    values = {name: env[name] for name in sorted(variables(EnvelopeSettings)) if env.get(name)}
    values["X12_USAGE_INDICATOR"] = "P" if production else "T"
    if production:
        demo = {var: getattr(DEMO_IDENTITY, attr) for var, attr in IDENTITY_VARIABLES.items()}
        left = [var for var, value in demo.items() if values.get(var, value) == value]
        if left:
            raise ProductionIdentityMissing(
                f"{STAGE_VARIABLE}={deployment_stage(env)} writes ISA15=P: set a real "
                f"clearinghouse identity in {', '.join(left)} (README, Deploying)"
            )
    try:
        EnvelopeSettings.model_validate({name.lower(): value for name, value in values.items()})
    except ValidationError as err:  # a bad qualifier or phone: names the variables only
        bad = sorted({str(e["loc"][0]).upper() for e in err.errors(include_input=False) if e["loc"]})
        raise SettingsError(f"envelope variables invalid: {', '.join(bad)}") from None
    return values


# --- Deployment options (cdk context or environment; none of them changes the local runtime) -----
@dataclass(frozen=True)
class DeployOptions:
    """What a deployment chooses. `from_context` reads `cdk deploy -c name=value` first, then the
    environment variable, then the default."""

    alarm_email: str | None = None  # medbill:alarm-email / MEDBILL_ALARM_EMAIL: subscribes to the alarm topic
    vpc: bool = False  # medbill:vpc / MEDBILL_VPC: functions in private subnets behind VPC endpoints
    clearinghouse_egress: bool = False  # medbill:clearinghouse-egress: NAT + SFTP egress (network.py)

    CONTEXT_KEYS: ClassVar[dict[str, tuple[str, str]]] = {
        "alarm_email": ("medbill:alarm-email", "MEDBILL_ALARM_EMAIL"),
        "vpc": ("medbill:vpc", "MEDBILL_VPC"),
        "clearinghouse_egress": ("medbill:clearinghouse-egress", "MEDBILL_CLEARINGHOUSE_EGRESS"),
    }

    @classmethod
    def from_context(cls, context: Callable[[str], object], environ: Mapping[str, str]) -> DeployOptions:
        def get(field_name: str) -> str | None:
            context_key, env_key = cls.CONTEXT_KEYS[field_name]
            value = context(context_key)
            if value is None:
                value = environ.get(env_key)
            return None if value is None or str(value).strip() == "" else str(value).strip()

        def flag(field_name: str) -> bool:
            return (get(field_name) or "").lower() in ("1", "true", "yes", "on")

        options = cls(
            alarm_email=get("alarm_email"), vpc=flag("vpc"), clearinghouse_egress=flag("clearinghouse_egress")
        )
        if options.clearinghouse_egress and not options.vpc:
            raise ValueError("medbill:clearinghouse-egress needs medbill:vpc=true")
        return options
