"""Features as code under Pulumi's mocks: one EntitlementsFeature per declared feature, one
ProductFeature per (product, feature) a plan grants, with real inputs and dependencies, for both
stack files; a feature taken off a plan is an attachment the program no longer declares."""

from __future__ import annotations

import pytest

from infra.features import COMPONENT
from tests.infra.infra_harness import ProgramRun, load_stack, run_program
from tests.infra.test_program import settings_of

FEATURE = "stripe:index/entitlementsFeature:EntitlementsFeature"
ATTACHMENT = "stripe:index/productFeature:ProductFeature"
PRODUCT = "stripe:index/product:Product"


def attachments(run: ProgramRun) -> dict[str, tuple[str, str]]:
    """{resource name: (product input, feature input)} of every ProductFeature."""
    return {
        r.name: (r.inputs["product"], r.inputs["entitlementsFeature"]) for r in run.all(ATTACHMENT)
    }


def test_each_declared_feature_is_one_entitlements_feature_under_the_component(stack_run):
    settings = settings_of(stack_run)
    features = stack_run.all(FEATURE)
    assert {r.inputs["lookupKey"]: r.inputs["name"] for r in features} == {
        f.lookup_key: f.name for f in settings.features.features
    }
    component = stack_run.one(COMPONENT)
    for feature in features:
        assert feature.name == f"features-{feature.inputs['lookupKey']}"
        assert feature.parent == component.urn
        assert feature.provider.split("::")[-2].endswith("portal-stripe"), feature.provider
        assert feature.inputs["metadata"] == {
            "managed-by": "pulumi/billing-portal",
            "stack": stack_run.stack,
        }
    assert stack_run.outputs["stripeFeatureIds"] == {
        r.inputs["lookupKey"]: f"feat_mock_{r.inputs['lookupKey']}" for r in features
    }


def test_dev_attaches_each_feature_to_the_declared_product_that_grants_it(dev):
    assert {r.name for r in dev.all(PRODUCT)} == {"portal-product-team", "portal-product-business"}
    assert attachments(dev) == {
        "features-team.seats": ("prod_mock_team", "feat_mock_seats"),
        "features-business.seats": ("prod_mock_business", "feat_mock_seats"),
        "features-business.export_csv": ("prod_mock_business", "feat_mock_export_csv"),
        "features-business.sso": ("prod_mock_business", "feat_mock_sso"),
    }


def test_prod_attaches_features_to_the_live_products_by_their_ids(prod):
    assert attachments(prod) == {
        "features-prod_AcmeTeamLive01.seats": ("prod_AcmeTeamLive01", "feat_mock_seats"),
        "features-prod_AcmeBusinessLive01.seats": ("prod_AcmeBusinessLive01", "feat_mock_seats"),
        "features-prod_AcmeBusinessLive01.export_csv": (
            "prod_AcmeBusinessLive01",
            "feat_mock_export_csv",
        ),
        "features-prod_AcmeBusinessLive01.sso": ("prod_AcmeBusinessLive01", "feat_mock_sso"),
    }
    assert not prod.all(PRODUCT)  # nothing created: the products exist


def test_an_attachment_depends_on_its_feature_and_on_its_declared_product(stack_run):
    component = stack_run.one(COMPONENT)
    features = {r.inputs["lookupKey"]: r for r in stack_run.all(FEATURE)}
    products = {f"prod_mock_{r.name.rsplit('-', 1)[-1]}": r for r in stack_run.all(PRODUCT)}
    assert stack_run.all(ATTACHMENT)
    for attachment in stack_run.all(ATTACHMENT):
        assert attachment.parent == component.urn
        lookup_key = attachment.name.rsplit(".", 1)[-1]
        assert stack_run.depends_on(attachment, features[lookup_key])
        product = products.get(attachment.inputs["product"])
        if stack_run.stack == "dev":
            assert product is not None and stack_run.depends_on(attachment, product)
            others = [p for p in products.values() if p is not product]
            assert not any(stack_run.depends_on(attachment, other) for other in others)


def test_taking_a_feature_off_a_plan_removes_only_that_attachment(dev, tmp_path):
    config = load_stack("dev")
    business = dict(config["billing-portal:products"]["business"])
    business["features"] = [key for key in business["features"] if key != "export_csv"]
    config["billing-portal:products"] = {**config["billing-portal:products"], "business": business}
    after = run_program("dev", config, tmp_path)
    before_names, after_names = set(attachments(dev)), set(attachments(after))
    assert before_names - after_names == {"features-business.export_csv"}
    assert after_names <= before_names
    # the feature itself stays: another plan may grant it again, and Stripe keeps it
    assert {r.name for r in after.all(FEATURE)} == {r.name for r in dev.all(FEATURE)}


def test_a_stack_without_features_declares_the_component_and_nothing_in_it(tmp_path):
    config = load_stack("dev")
    del config["billing-portal:features"]
    products = config["billing-portal:products"]
    config["billing-portal:products"] = {
        name: {k: v for k, v in product.items() if k != "features"}
        for name, product in products.items()
    }
    run = run_program("dev", config, tmp_path)
    assert not run.all(FEATURE) and not run.all(ATTACHMENT)
    assert run.outputs["stripeFeatureIds"] == {}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_granted_feature_is_attached_exactly_once(stack, request):
    run = request.getfixturevalue(stack)
    settings = settings_of(run)
    assert len(run.all(ATTACHMENT)) == len(settings.features.attachments)
    assert len(set(attachments(run).values())) == len(run.all(ATTACHMENT))
