"""Where Pulumi's DIY backend keeps each stack's objects in the state bucket (pure functions).

The project-scoped layout (`.pulumi/meta.yaml` version 1, what `pulumi login s3://...` writes into an empty bucket),
as pulumi/pulumi `pkg/backend/diy` lays it out:

- `.pulumi/stacks/<project>/<stack>.json` the checkpoint (also `.json.gz`/`.json.zst` when compressed, and `.bak`
  copies of each: store.go `StackBasePath`, state.go `backupTarget`);
- `.pulumi/history/<project>/<stack>/` one entry per update (`HistoryDir`);
- `.pulumi/backups/<project>/<stack>/` retained checkpoints (`BackupDir`);
- `.pulumi/locks/organization/<project>/<stack>/` the lock of a running update (lock.go `stackLockDir`: the lock
  directory is named after the stack's fully qualified name, `organization/<project>/<stack>`).

(An opt-in journal, `PULUMI_DIY_BACKEND_JOURNALING`, would add `.pulumi/journal/<project>/<stack>/`: not used here.)

`.pulumi/meta.yaml` is shared by every stack: read at every login, written once, by the first login into the empty
bucket.
"""

from __future__ import annotations

META = ".pulumi/meta.yaml"
"""The layout version file every CLI reads at login."""


def stack_key_patterns(project: str, stack: str) -> tuple[str, ...]:
    """The object keys (S3 ARN wildcards) that hold `stack`'s state and nothing of another stack.

    A stack name has no `/` and no `.`, so `<stack>.json*` and `<stack>/*` never reach a stack whose name merely starts
    with it (`prod` and `prod-eu`)."""
    if not stack or any(c in stack for c in "/.*?"):
        raise ValueError(f"not a Pulumi stack name: {stack!r}")
    return (
        f".pulumi/stacks/{project}/{stack}.json*",
        f".pulumi/history/{project}/{stack}/*",
        f".pulumi/backups/{project}/{stack}/*",
        f".pulumi/locks/organization/{project}/{stack}/*",
    )


def stack_object_arns(bucket_arn: str, project: str, stack: str) -> list[str]:
    """`stack_key_patterns` as object ARNs of the bucket."""
    return [f"{bucket_arn}/{pattern}" for pattern in stack_key_patterns(project, stack)]
