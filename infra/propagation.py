"""The wait between granting the functions' service accounts their roles and deploying them.

IAM is eventually consistent: Google documents that a change to an allow policy "typically"
propagates in 2 minutes, "potentially 7 minutes or longer". A function created right after its
grants fails its first deploy (the build cannot read the source, the revision cannot read its
secret) and succeeds on a second `pulumi up`; pulumi-gcp's own example of a function with a
custom build account waits 60 s for exactly this. So both functions depend on one
`pulumiverse_time.Sleep` that depends on every grant they need and on every API the stack
enables (enabling an API creates its service agents, which are granted roles asynchronously).

The sleep delays only its own creation. Its `triggers` fingerprint every grant (role, member,
target, condition) and the API list: an `up` that changes none of them leaves the sleep as it is
and does not wait; one that adds, removes or changes a grant replaces it, and waits again, before
a function that changes in the same `up` is updated.

`pulumiverse_time` (the Pulumi bridge of HashiCorp's `time` provider, the one pulumi-gcp's
examples use) rather than a dynamic provider of our own: it is the maintained, documented
mechanism, and `Sleep` already implements create-only delays with replacement triggers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pulumiverse_time

# Google's "typically 2 minutes" for an allow-policy change to propagate.
PROPAGATION_DELAY = "120s"

# The kinds of grant the stack gives its service accounts.
Grant = (
    gcp.projects.IAMMember
    | gcp.secretmanager.SecretIamMember
    | gcp.artifactregistry.RepositoryIamMember
)


def grant_fingerprint(parts: Sequence[Any]) -> str:
    """One grant as a line of text: its id, role, member and condition expression."""
    return " ".join(str(part) if part else "-" for part in parts)


def grants_trigger(fingerprints: Sequence[str]) -> str:
    """Every grant's fingerprint, one a line, sorted: a new order of declaring is no change."""
    return "\n".join(sorted(fingerprints))


def _expression(condition: Any) -> str:
    """An IAM condition's expression (a typed output object, or a mapping under mocks)."""
    if not condition:
        return ""
    if isinstance(condition, dict):
        return condition.get("expression") or ""
    return condition.expression or ""


def _fingerprint(grant: Grant) -> pulumi.Output[str]:
    expression = pulumi.Output.from_input(grant.condition).apply(_expression)
    parts = [grant.id, grant.role, grant.member, expression]
    return pulumi.Output.all(*parts).apply(grant_fingerprint)


def propagation_wait(
    name: str,
    grants: Sequence[Grant],
    apis: Sequence[pulumi.CustomResource],
    api_names: Sequence[str],
    parent: pulumi.Resource,
) -> pulumiverse_time.Sleep:
    """A `Sleep` of `PROPAGATION_DELAY` after every grant in `grants` and every API in `apis`,
    re-run whenever a grant or the API list changes. Whatever depends on it waits for IAM."""
    fingerprints = pulumi.Output.all(*[_fingerprint(grant) for grant in grants])
    return pulumiverse_time.Sleep(
        name,
        create_duration=PROPAGATION_DELAY,
        triggers={
            "apis": " ".join(sorted(api_names)),
            "grants": fingerprints.apply(grants_trigger),
        },
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[*apis, *grants]),
    )
