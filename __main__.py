"""The platform program: load the stack's config, build its provider, hand both to the composition root of its kind.

Which root runs is decided by the stack's environment profile (Pulumi.yaml `environments`, `kind`), never by its name.
"""

import pulumi

from core.context import StackContext
from core.providers import aws_provider
from stacks import environment, shared_services
from stacks.config import EnvironmentConfig, load

cfg = load()
ctx = StackContext.from_config(cfg)
aws = aws_provider(cfg)

pulumi.export("environment", cfg.environment)
pulumi.export("accountId", cfg.account_id)
pulumi.export("region", cfg.region)

if isinstance(cfg, EnvironmentConfig):
    environment.build(cfg, ctx, aws)
else:
    shared_services.build(cfg, ctx, aws)
