"""What every platform component shares: its children are named after it.

A URN holds the parent's *type*, never its name, so two instances of one component type whose children used the same
logical names would collide: the engine stops with "Duplicate resource URN". Children are therefore named
`<component>-<key>` (pulumi-eks's habit), and two instances of a component coexist in one stack.

Resources deployed before this convention had the bare `key` as their logical name. Each child carries a
`pulumi.Alias(name=key)`, so a stack that already exists moves them to the new URN instead of replacing them; an
alias that matches nothing in the state is ignored by the engine. Two resources must never claim the same alias (the
engine refuses that too), so a second instance of a component in one stack, which could not have been deployed under
the old names, is created with `legacy_aliases=False`. Physical names never derive from the logical name
(they come from `ctx.namer` or from the key), so the rename changes no cloud resource.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi


class PlatformComponent(pulumi.ComponentResource):
    """A `pulumi.ComponentResource` whose children are created through `child_name` and `child_opts`."""

    component_name: str

    def __init__(
        self,
        type_: str,
        name: str,
        opts: pulumi.ResourceOptions | None = None,
        *,
        legacy_aliases: bool = True,
        moved_from: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(type_, name, None, opts)
        self.component_name = name
        self._legacy_aliases = legacy_aliases
        self._moved_from = moved_from

    def child_name(self, key: str) -> str:
        """The logical name of the child `key`: `<component>-<key>`."""
        return f"{self.component_name}-{key}"

    def child_opts(
        self,
        key: str,
        *,
        provider: pulumi.ProviderResource | None = None,
        protect: bool = False,
        depends_on: Sequence[pulumi.Resource] = (),
        **options: Any,
    ) -> pulumi.ResourceOptions:
        """Options of the child `key`: parented here, aliased to its pre-prefix name, plus the given options."""
        return pulumi.ResourceOptions(
            parent=self,
            aliases=self._child_aliases(key) if self._legacy_aliases else None,
            provider=provider,
            protect=protect,
            depends_on=list(depends_on) or None,
            **options,
        )

    def _child_aliases(self, key: str) -> list[pulumi.Alias]:
        if self._moved_from is None:
            return [pulumi.Alias(name=key)]
        # The child used to belong to another component (type, name) at the stack's root: alias both of its former
        # names there, `<old component>-<key>` and the bare `key` of the first layout.
        old_type, old_name = self._moved_from
        old_parent = f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{old_type}::{old_name}"
        return [pulumi.Alias(name=f"{old_name}-{key}", parent=old_parent), pulumi.Alias(name=key, parent=old_parent)]
