"""The connected-account branding provider, run against the Stripe stand-in.

The provider is what `pulumi up` runs (in a separate process) for `branding.connectedAccount`;
here its create/diff/update/read/delete are called directly, with the stand-in as Stripe.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import subprocess
import sys

import pytest
import stripe
from pulumi.dynamic.dynamic import serialize_provider

from infra.connected_branding import make_provider, provider_inputs
from stackspec.settings import BrandingSettings, parse_settings
from stackspec.stackfiles import load_stack_file
from tests.infra.infra_harness import REPO
from tests.support.images import png

pytestmark = pytest.mark.integration


@pytest.fixture
def standin(fresh_stripe_standin):
    return fresh_stripe_standin


@pytest.fixture
def account(standin) -> str:
    return standin.create_connected_account()["id"]


def declared(account: str) -> BrandingSettings:
    """dev's branding, applied to `account`."""
    stack, config = load_stack_file(REPO / "Pulumi.dev.yaml")
    branding = parse_settings(stack, config, secrets_required=False).branding
    return dataclasses.replace(branding, connected_account=account)


def props(standin, branding: BrandingSettings) -> dict:
    """The inputs Pulumi hands the provider, pointed at the stand-in."""
    return {**provider_inputs(branding), "api_key": standin.test_key, "api_base": standin.url}


def named(data: bytes, name: str) -> io.BytesIO:
    """File content as the SDK uploads it, with a file name."""
    content = io.BytesIO(data)
    content.name = name
    return content


def live_branding(standin, account: str) -> dict:
    (found,) = [a for a in standin.connected_accounts() if a["id"] == account]
    return found["settings"]["branding"]


def uploads(standin) -> list[dict]:
    return standin.requests(path_prefix="/v1/files", method="POST")


def test_create_uploads_the_images_as_the_account_and_sets_its_branding(standin, account):
    created = make_provider().create(props(standin, declared(account)))
    assert created.id == account
    assert live_branding(standin, account) == {
        "icon": created.outs["icon"],
        "logo": created.outs["logo"],
        "primary_color": "#B45309",
        "secondary_color": "#FFF7ED",
    }
    assert [entry["stripe_account"] for entry in uploads(standin)] == [account, account]
    assert sorted(entry["params"]["purpose"] for entry in uploads(standin)) == [
        "business_icon",
        "business_logo",
    ]


def test_the_uploaded_files_hold_the_declared_images(standin, account):
    branding = declared(account)
    created = make_provider().create(props(standin, branding))
    client = standin.client()
    for field, image in (("icon", branding.icon), ("logo", branding.logo)):
        file = client.v1.files.retrieve(created.outs[field], options={"stripe_account": account})
        assert (file.filename, file.size) == (image.upload_name, image.size)


def test_create_outputs_no_image_content(standin, account):
    outs = make_provider().create(props(standin, declared(account))).outs
    assert not any(key.endswith("_content") for key in outs)


def test_diff_sees_no_change_in_a_colour_written_in_another_case(standin, account):
    inputs = props(standin, declared(account))
    outs = make_provider().create(inputs).outs
    result = make_provider().diff(account, outs, {**inputs, "primary_color": "#b45309"})
    assert result.changes is False


@pytest.mark.parametrize(
    "change",
    [{"primary_color": "#000000"}, {"secondary_color": "#FFFFFF"}, {"icon_sha256": "0" * 64}],
    ids=["primary", "secondary", "icon"],
)
def test_diff_sees_a_changed_colour_or_image_as_an_update_in_place(standin, account, change):
    inputs = props(standin, declared(account))
    outs = make_provider().create(inputs).outs
    result = make_provider().diff(account, outs, {**inputs, **change})
    assert (result.changes, result.replaces) == (True, [])


def test_diff_replaces_the_resource_for_another_account(standin, account):
    inputs = props(standin, declared(account))
    outs = make_provider().create(inputs).outs
    result = make_provider().diff(account, outs, {**inputs, "account": "acct_Other0000001"})
    assert result.replaces == ["account"]


def test_update_uploads_only_the_image_that_changed(standin, account):
    branding = declared(account)
    outs = make_provider().create(props(standin, branding)).outs
    new_icon = dataclasses.replace(branding.icon, data=png(300, 300))
    news = props(standin, dataclasses.replace(branding, icon=new_icon, primary_color="#111111"))
    updated = make_provider().update(account, outs, news).outs
    assert updated["logo"] == outs["logo"]
    assert updated["icon"] != outs["icon"]
    assert len(uploads(standin)) == 3
    assert live_branding(standin, account)["primary_color"] == "#111111"
    assert live_branding(standin, account)["icon"] == updated["icon"]


def test_read_reports_a_branding_changed_elsewhere_so_the_next_diff_restores_it(standin, account):
    inputs = props(standin, declared(account))
    outs = make_provider().create(inputs).outs
    standin.client().v1.accounts.update(
        account, params={"settings": {"branding": {"primary_color": "#FF0000"}}}
    )
    read = make_provider().read(account, outs)
    assert read.outs["primary_color"] == "#FF0000"
    assert make_provider().diff(account, read.outs, inputs).changes is True


def test_read_of_a_replaced_image_forgets_its_content_so_it_is_uploaded_again(standin, account):
    branding = declared(account)
    inputs = props(standin, branding)
    outs = make_provider().create(inputs).outs
    other = standin.client().v1.files.create(
        params={"purpose": "business_icon", "file": named(png(200, 200), "other.png")},
        options={"stripe_account": account},
    )
    standin.client().v1.accounts.update(
        account, params={"settings": {"branding": {"icon": other.id}}}
    )
    read = make_provider().read(account, outs)
    assert (read.outs["icon"], read.outs["icon_sha256"]) == (other.id, None)
    assert make_provider().diff(account, read.outs, inputs).changes is True


def test_delete_leaves_the_accounts_branding_as_it_is(standin, account):
    outs = make_provider().create(props(standin, declared(account))).outs
    before = live_branding(standin, account)
    make_provider().delete(account, outs)
    assert live_branding(standin, account) == before


def test_an_unknown_account_fails_the_create_with_stripes_message(standin):
    with pytest.raises(stripe.InvalidRequestError, match="No such account"):
        make_provider().create(props(standin, declared("acct_Unknown000001")))


def test_the_serialized_provider_runs_where_this_repository_cannot_be_imported(
    standin, account, tmp_path
):
    # Pulumi pickles the provider into the state and runs it in its own process; `-I` leaves
    # the repository off sys.path there, as it may be off the provider host's path.
    serialized = serialize_provider(make_provider())
    script = (
        "import base64, json, sys, dill\n"
        "provider = dill.loads(base64.b64decode(sys.argv[1]))\n"
        "props = json.loads(sys.stdin.read())\n"
        "outs = provider.create(props).outs\n"
        "print(json.dumps({'infra_imported': 'infra' in sys.modules, 'icon': outs['icon']}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", script, serialized],
        input=json.dumps(props(standin, declared(account))),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["infra_imported"] is False
    assert live_branding(standin, account)["icon"] == result["icon"]


def test_the_provider_inputs_carry_each_image_as_base64_with_its_hash(account):
    branding = declared(account)
    inputs = provider_inputs(branding)
    assert base64.b64decode(inputs["icon_content"]) == branding.icon.data
    assert inputs["icon_sha256"] == branding.icon.sha256
