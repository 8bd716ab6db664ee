"""The portal fields pulumi-stripe cannot set, applied by `pulumi up`; stale configurations retired.

Two small `pulumi.dynamic` resources on the configuration pulumi-stripe creates:

- `PortalFields` applies the seven fields of `stackspec.portal_fields.PATHS` with
  `POST /v1/billing_portal/configurations/{id}`. Its inputs are the configuration id (so it runs
  after the configuration and again on the new one when it is replaced), the declared values and
  a hash of what pulumi-stripe sends (pulumi-stripe resends the product list without
  `adjustable_quantity`, so any update of the configuration re-applies the fields). `diff`
  reports exactly the fields whose values differ, `read` returns the live values, so
  `pulumi refresh` shows a Dashboard edit of one of them as drift and the next `up` puts it back.
  Both the update and the read expand the plan-switching products
  (`portal_fields.READ_EXPAND`): Stripe leaves them out of the object otherwise, and the provider
  would record no products and propose the same update on every preview. A full apply (create,
  or another configuration) also sends `active: false` when the stack declares the configuration
  inactive: pulumi-stripe creates every configuration active (Stripe's create has no `active`;
  the Terraform provider it bridges sends it only on an update that changes it), so without this
  an inactive stack's first `up` would leave it active until a second `up`.
- `PortalRetirement` deactivates the configuration the function no longer uses: it depends on the
  function, so when the configuration is replaced its update runs once the function has been
  redeployed with the new `PORTAL_CONFIGURATION_ID`, and deactivates the previous one; its delete
  (`pulumi destroy`) deactivates the current one. Stripe cannot delete a configuration.

Pulumi pickles a provider (with dill) into the state and runs it in a separate process that may
not be able to import this repository's modules. As in `infra.connected_branding`, each provider
class is built inside a `make_…()` function, so dill serialises it by value, and uses only the
standard library, `stripe` and `pulumi`. The field mapping it needs is the very module `plan` and
`drift` use, `stackspec.portal_fields`: its source is read here, at program time, carried in the
provider as text and executed into a private namespace where the provider runs, so the provider
cannot drift from the review tools and still needs nothing from this repository at run time.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.dynamic import ResourceProvider

from stackspec import portal_fields

if TYPE_CHECKING:
    # For the checker only: the providers import `stripe` where they run (see above).
    import stripe
    from stripe.params.billing_portal import ConfigurationUpdateParams

# The mapping's source, carried by value into the serialised provider (see the module docstring).
FIELDS_SOURCE = inspect.getsource(portal_fields)
CONFIGURATIONS = "/v1/billing_portal/configurations"


def sent_hash(params: Mapping[str, Any]) -> str:
    """sha256 of what pulumi-stripe is given: when it changes, the fields are applied again."""
    text = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _client_factory() -> Callable[[Mapping[str, Any]], stripe.StripeClient]:
    """`client(props)`: a StripeClient for the provider's key and (test) API base."""

    def client(props: Mapping[str, Any]) -> stripe.StripeClient:
        import stripe

        base = props.get("api_base") or None
        return stripe.StripeClient(
            props["api_key"], base_addresses={"api": base} if base else None, max_network_retries=2
        )

    return client


def make_fields_provider() -> ResourceProvider:
    """The provider: create/update apply the fields, diff compares them, read fetches them."""
    from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

    source = FIELDS_SOURCE
    client = _client_factory()

    def mapping() -> dict[str, Any]:
        # Executed where the provider runs: stackspec need not be importable there.
        namespace: dict[str, Any] = {"__name__": "portal_fields_by_value"}
        exec(compile(source, "stackspec/portal_fields.py", "exec"), namespace)  # noqa: S102
        return namespace

    def expand() -> list[str]:
        # Stripe leaves the products out unless expanded; without them every diff would differ.
        return list(mapping()["READ_EXPAND"])

    def post(props: Mapping[str, Any], params: ConfigurationUpdateParams) -> dict[str, Any]:
        configuration = client(props).v1.billing_portal.configurations.update(
            props["configuration_id"], params={**params, "expand": expand()}
        )
        return configuration.to_dict()

    def apply(props: dict[str, Any], paths: list[str] | None) -> dict[str, Any]:
        fields = mapping()
        wanted = fields["PATHS"] if paths is None else paths
        params = fields["update_params"](props["fields"], wanted)
        if paths is None and props.get("active") is False:
            params["active"] = False  # pulumi-stripe's create made it active (module docstring)
        live = post(props, params)
        return {**props, "fields": fields["live_fields"](live)}

    def changes(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
        """The changed fields (paths), then `configuration_id` / `sent_hash` when they changed."""
        different: list[str] = mapping()["changed_fields"](news["fields"], olds["fields"])
        for key in ("configuration_id", "sent_hash", "api_base"):
            if olds.get(key) != news.get(key):
                different.append(key)
        return different

    class PortalFieldsProvider(ResourceProvider):
        def create(self, props: dict[str, Any]) -> CreateResult:
            return CreateResult(id_=props["configuration_id"], outs=apply(props, None))

        def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
            return DiffResult(changes=bool(changes(olds, news)), replaces=[])

        def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
            different = changes(olds, news)
            resend = any(key in different for key in ("configuration_id", "sent_hash"))
            # Another configuration, or one pulumi-stripe just rewrote: every field; else only
            # the ones that changed (a change of one field sends that field only).
            paths = None if resend else [p for p in different if p in mapping()["PATHS"]]
            return UpdateResult(outs=apply(news, paths))

        def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
            live = client(props).v1.billing_portal.configurations.retrieve(
                id_, params={"expand": expand()}
            )
            outs = {**props, "fields": mapping()["live_fields"](live.to_dict())}
            return ReadResult(id_=id_, outs=outs)

        def delete(self, _id: str, _props: dict[str, Any]) -> None:
            """The fields stay on the configuration; `PortalRetirement` deactivates it."""

    return PortalFieldsProvider()


def make_retirement_provider() -> ResourceProvider:
    """The provider: update deactivates the previous configuration, delete the current one."""
    from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

    client = _client_factory()

    def deactivate(props: Mapping[str, Any], configuration_id: str) -> None:
        client(props).v1.billing_portal.configurations.update(
            configuration_id, params={"active": False}
        )

    class PortalRetirementProvider(ResourceProvider):
        def create(self, props: dict[str, Any]) -> CreateResult:
            return CreateResult(id_="retirement", outs=dict(props))

        def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
            changed = any(olds.get(k) != news.get(k) for k in ("configuration_id", "api_base"))
            return DiffResult(changes=changed, replaces=[])

        def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
            previous = olds.get("configuration_id")
            if previous and previous != news["configuration_id"]:
                deactivate(news, previous)
            return UpdateResult(outs=dict(news))

        def delete(self, _id: str, props: dict[str, Any]) -> None:
            deactivate(props, props["configuration_id"])

    return PortalRetirementProvider()


_SECRET_KEY = pulumi.ResourceOptions(additional_secret_outputs=["api_key"])


class PortalFields(pulumi.dynamic.Resource, module="stripe", name="PortalFields"):
    """The declared values of the fields pulumi-stripe cannot set, on the stack's configuration."""

    configuration_id: pulumi.Output[str]
    fields: pulumi.Output[dict[str, Any]]

    def __init__(
        self,
        name: str,
        *,
        configuration_id: pulumi.Input[str],
        fields: pulumi.Input[dict[str, Any]],
        sent_hash: pulumi.Input[str],
        api_key: pulumi.Input[str],
        active: bool = True,  # the stack's `portal.active`; pulumi-stripe's create ignores it
        api_base: str | None = None,  # None: Stripe itself; tests point it at the stand-in
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        inputs = {
            "configuration_id": configuration_id,
            "fields": fields,
            "sent_hash": sent_hash,
            "active": active,
            "api_key": pulumi.Output.secret(api_key),
            "api_base": api_base,
        }
        options = pulumi.ResourceOptions.merge(opts, _SECRET_KEY)
        super().__init__(make_fields_provider(), name, inputs, options)


class PortalRetirement(pulumi.dynamic.Resource, module="stripe", name="PortalRetirement"):
    """Deactivates a replaced configuration once the function uses the new one, and the stack's
    configuration on `pulumi destroy`."""

    configuration_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        configuration_id: pulumi.Input[str],
        api_key: pulumi.Input[str],
        api_base: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        inputs = {
            "configuration_id": configuration_id,
            "api_key": pulumi.Output.secret(api_key),
            "api_base": api_base,
        }
        options = pulumi.ResourceOptions.merge(opts, _SECRET_KEY)
        super().__init__(make_retirement_provider(), name, inputs, options)
