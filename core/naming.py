"""Physical names: one stack-aware helper that knows each AWS service's length and character rules.

Logical (Pulumi) names stay the same in every stack; the URN already carries the stack. Physical names are only set
where AWS needs a stable, known name (an EKS cluster, a log group EKS writes to, a bucket other accounts reference);
everything else is auto-named by Pulumi.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.settings import CommonConfig as StackConfig


@dataclass(frozen=True)
class Rule:
    limit: int
    pattern: re.Pattern[str]
    description: str


_HYPHENATED = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_IAM = re.compile(r"^[\w+=,.@-]+$")

RULES: dict[str, Rule] = {
    "eks-cluster": Rule(100, re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$"), "letters, digits, - and _"),
    "iam-role": Rule(64, _IAM, "letters, digits and +=,.@_-"),
    "iam-policy": Rule(128, _IAM, "letters, digits and +=,.@_-"),
    "s3-bucket": Rule(63, _HYPHENATED, "lowercase letters, digits and single hyphens"),
    "rds": Rule(63, re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"), "lowercase letters, digits, hyphens; a letter first"),
    "sqs": Rule(80, re.compile(r"^[a-zA-Z0-9_-]+$"), "letters, digits, - and _"),
    "sns": Rule(256, re.compile(r"^[a-zA-Z0-9_-]+$"), "letters, digits, - and _"),
    "eventbridge-rule": Rule(64, re.compile(r"^[\w.-]+$"), "letters, digits, ., - and _"),
    "log-group": Rule(512, re.compile(r"^[\w\-./#]+$"), "letters, digits and _-./#"),
    "kms-alias": Rule(250, re.compile(r"^alias/[\w/-]+$"), "alias/ followed by letters, digits, / _ -"),
    "load-balancer": Rule(32, _HYPHENATED, "letters, digits and single hyphens"),
    "target-group": Rule(32, _HYPHENATED, "letters, digits and single hyphens"),
    "security-group": Rule(255, re.compile(r"^[\w\s.\-:/()#,@\[\]+=&;{}!$*]+$"), "printable ASCII"),
    "wafv2": Rule(128, re.compile(r"^[\w-]+$"), "letters, digits, - and _"),
    "generic": Rule(255, re.compile(r"^[\w\-./]+$"), "letters, digits and _-./"),
}


class PhysicalNameError(ValueError):
    pass


@dataclass(frozen=True)
class Namer:
    prefix: str
    stack: str

    @classmethod
    def for_stack(cls, cfg: StackConfig) -> Namer:
        return cls(cfg.name_prefix, cfg.stack)

    @property
    def base(self) -> str:
        return f"{self.prefix}-{self.stack}"

    def physical(self, *parts: str, service: str = "generic") -> str:
        """`<prefix>-<stack>[-part...]`, checked against `service`'s length limit and character set."""
        name = "-".join((self.base, *parts))
        return check(name, service)

    def log_group(self, *parts: str) -> str:
        """`/<prefix>/<stack>/<part>/...`: one log-group hierarchy per stack, easy to grant and to search."""
        return check("/" + "/".join((self.prefix, self.stack, *parts)), "log-group")

    def alias(self, *parts: str) -> str:
        return check("alias/" + "/".join((self.prefix, self.stack, *parts)), "kms-alias")


def check(name: str, service: str) -> str:
    try:
        rule = RULES[service]
    except KeyError:
        raise PhysicalNameError(f"unknown naming service {service!r}; known: {', '.join(sorted(RULES))}") from None
    if len(name) > rule.limit:
        raise PhysicalNameError(
            f"physical name {name!r} is {len(name)} characters; {service} names allow at most {rule.limit}. "
            "Shorten namePrefix or the stack name."
        )
    if not rule.pattern.match(name):
        raise PhysicalNameError(f"physical name {name!r} is not a valid {service} name: use {rule.description}")
    return name
