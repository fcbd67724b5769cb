"""Container registry invariants: immutable tags and vulnerability scanning."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ReportViolation, StackValidationArgs, StackValidationPolicy

from guardrails._util import fail_stack, get, of_types, truthy

MANDATORY = EnforcementLevel.MANDATORY
REPOSITORY = "aws:ecr/repository:Repository"
REGISTRY_SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
IMMUTABLE = ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION")


def _ecr(args: StackValidationArgs, report: ReportViolation) -> None:
    enhanced = any(get(r.props, "scanType") == "ENHANCED" for r in of_types(args.resources, [REGISTRY_SCANNING]))
    for repo in of_types(args.resources, [REPOSITORY]):
        mutability = get(repo.props, "imageTagMutability", default="MUTABLE")
        if mutability not in IMMUTABLE:
            fail_stack(report, repo, "image tags are mutable", mutability, 'set imageTagMutability="IMMUTABLE"')
        if not enhanced and not truthy(get(repo.props, "imageScanningConfiguration", "scanOnPush")):
            fail_stack(
                report,
                repo,
                "images are not scanned on push",
                get(repo.props, "imageScanningConfiguration"),
                "set imageScanningConfiguration.scanOnPush=true, or enable registry ENHANCED scanning in the stack",
            )


ecr_immutable_scanned = StackValidationPolicy(
    name="ecr-immutable-and-scanned",
    description="ECR repositories use immutable tags and scan images on push (or registry enhanced scanning).",
    enforcement_level=MANDATORY,
    validate=_ecr,
)

POLICIES = [ecr_immutable_scanned]
