"""CDK app: `python -m infra.app` (from the repo root) synthesizes the stack into cdk.out/.

cdk-nag's AwsSolutions and HIPAA Security packs run as CDK validation plugins: an
unacknowledged finding fails the synth (and so `make synth`, `cdk deploy` and tests/infra).
"""

from __future__ import annotations

import os

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks

from infra import config
from infra.stack import STACK_NAME, MedbillStack

OUTDIR = str(config.REPO_ROOT / "cdk.out")
# Feature flags the stack relies on, set here so `python -m infra.app` and tests/infra behave alike.
CONTEXT = {
    # Server access logs are delivered under a bucket policy (no ACLs, BucketOwnerEnforced).
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}


def build_app(outdir: str = OUTDIR) -> tuple[App, MedbillStack]:
    """The app with the stack and both nag packs, not yet synthesized. A production stage
    (MEDBILL_STAGE=prod) without a real 837P envelope identity stops here, before any construct."""
    config.envelope_environment()  # raises ProductionIdentityMissing naming the X12_* variables
    app = App(outdir=outdir, context=CONTEXT)
    env = None
    if os.environ.get("CDK_DEFAULT_ACCOUNT") and os.environ.get("CDK_DEFAULT_REGION"):
        env = Environment(account=os.environ["CDK_DEFAULT_ACCOUNT"], region=os.environ["CDK_DEFAULT_REGION"])
    stack = MedbillStack(app, STACK_NAME, env=env, description="medbill: serverless medical billing pipeline")
    add_nag(app)
    return app, stack


def add_nag(app: App) -> None:
    """cdk-nag's AwsSolutions and HIPAA Security packs as validation plugins of the whole app."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), HIPAASecurityChecks(app))


def main() -> None:
    app, _ = build_app()
    app.synth()


if __name__ == "__main__":
    main()
