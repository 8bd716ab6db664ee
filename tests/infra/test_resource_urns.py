"""Every resource the program declares keeps the URN it is deployed under.

A URN is the stack, the project, the type chain of the resource's parents and its own type, and
its name. `pulumi up` replaces (deletes, then creates) a live resource whose URN changes, unless
the program declares the old URN as an alias: a renamed service account or Firestore grant is a
new one, a re-parented function a redeployed one. `resource_urns.txt` lists the URN of every
resource of the dev and prod stacks as deployed, one a line, as `pulumi stack --show-urns`
prints them; a change to it is a change to what `up` does to live stacks, made on purpose.
"""

from __future__ import annotations

from pathlib import Path

from tests.infra.infra_harness import ProgramRun

RECORDED = Path(__file__).with_name("resource_urns.txt")
# The mock monitor puts the root stack's type at the head of every type chain; the engine does not.
_ROOT = "pulumi:pulumi:Stack$"


def engine_urn(mock_urn: str) -> str:
    """The URN the engine gives a resource, from the one the mock monitor gives it."""
    return mock_urn.replace(f"::{_ROOT}", "::", 1)


def declared_urns(run: ProgramRun) -> set[str]:
    return {engine_urn(registration.urn) for registration in run.registrations}


def recorded_urns(stack: str) -> set[str]:
    lines = RECORDED.read_text().splitlines()
    return {line for line in lines if line.startswith(f"urn:pulumi:{stack}::")}


def test_every_resource_keeps_the_urn_it_is_deployed_under(stack_run):
    declared, recorded = declared_urns(stack_run), recorded_urns(stack_run.stack)
    gone, new = sorted(recorded - declared), sorted(declared - recorded)
    assert not gone and not new, (
        f"{stack_run.stack}: `pulumi up` would replace or delete {gone} and create {new}; "
        f"keep the names and parents, or add aliases and update {RECORDED.name} on purpose"
    )
