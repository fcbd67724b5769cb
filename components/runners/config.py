"""The `runners` section: the in-VPC GitHub Actions runners of an environment stack."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import field_validator

from core.schema import Model

_CONNECTION = re.compile(
    r"^arn:aws(-cn|-us-gov)?:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[\w-]+$"
)


class RunnersConfig(Model):
    """AWS CodeBuild-hosted GitHub Actions runners in the environment's private subnets: the deploy and preview jobs
    of the stack run there, so they reach a private EKS endpoint without opening it to the internet."""

    connection_arn: str
    """The AWS CodeConnections (formerly CodeStar Connections) connection to GitHub that CodeBuild uses to register
    its runners; created and authorised once in the console (docs/runbooks/bootstrap.md)."""
    compute_type: Literal["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE"] = (
        "BUILD_GENERAL1_MEDIUM"
    )
    """The CodeBuild compute size of each runner (a Pulumi preview of a stack needs about 4 GiB of memory)."""
    image: str = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
    """The CodeBuild image the runner starts from (a curated AWS image)."""

    @field_validator("connection_arn")
    @classmethod
    def _connection(cls, arn: str) -> str:
        if not _CONNECTION.match(arn):
            raise ValueError("a CodeConnections ARN, arn:aws:codeconnections:<region>:<account>:connection/<id>")
        return arn
