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


def build_app(
    outdir: str = OUTDIR, context: dict[str, object] | None = None, environ: dict[str, str] | None = None
) -> tuple[App, MedbillStack]:
    """The app with the stack and both nag packs, not yet synthesized. `context` adds deployment
    options (`config.DeployOptions`: medbill:alarm-email, medbill:vpc, ...) to the feature flags;
    `environ` replaces os.environ for reading them (tests)."""
    config.envelope_environment()  # a production stage without a real 837P identity stops here
    app = App(outdir=outdir, context={**CONTEXT, **(context or {})})
    options = config.DeployOptions.from_context(app.node.try_get_context, os.environ if environ is None else environ)
    env = None
    if os.environ.get("CDK_DEFAULT_ACCOUNT") and os.environ.get("CDK_DEFAULT_REGION"):
        env = Environment(account=os.environ["CDK_DEFAULT_ACCOUNT"], region=os.environ["CDK_DEFAULT_REGION"])
    stack = MedbillStack(
        app, STACK_NAME, env=env, options=options, description="medbill: serverless medical billing pipeline"
    )
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
