"""`--stack`: the tools take the deployment's Firestore settings from its stack file, and refuse
an environment that disagrees or a live key outside production."""

from __future__ import annotations

import pytest

from tools import adopt, backfill
from tools.toolenv import ToolSetupError, tool_environment, tool_settings

TEST_KEY = "sk_test_toolenv0123456789"
LIVE_KEY = "sk_" + "live_" + "toolenv0123456789"  # assembled: no live-key literal in the tree


def test_the_stack_file_gives_the_firestore_settings():
    env = tool_environment({"STRIPE_SECRET_KEY": TEST_KEY}, "dev")
    assert env["GOOGLE_CLOUD_PROJECT"] == "acme-billing-dev"
    assert env["CUSTOMERS_COLLECTION"] == "stripe_customers"
    assert env["FIRESTORE_DATABASE"] == "(default)"
    assert tool_settings({"STRIPE_SECRET_KEY": TEST_KEY}, "dev").customers_collection == (
        "stripe_customers"
    )


def test_an_environment_that_disagrees_with_the_stack_is_refused_by_name():
    with pytest.raises(ToolSetupError, match="CUSTOMERS_COLLECTION=leftover_dev"):
        tool_environment(
            {"STRIPE_SECRET_KEY": TEST_KEY, "CUSTOMERS_COLLECTION": "leftover_dev"}, "prod"
        )


def test_a_live_key_outside_a_production_stack_is_refused():
    with pytest.raises(ToolSetupError, match="not production"):
        tool_environment({"STRIPE_SECRET_KEY": LIVE_KEY}, "dev")
    assert tool_environment({"STRIPE_SECRET_KEY": LIVE_KEY}, "prod")["GOOGLE_CLOUD_PROJECT"]


def test_an_unknown_stack_or_a_missing_key_cannot_run():
    with pytest.raises(ToolSetupError, match="no stack file"):
        tool_environment({"STRIPE_SECRET_KEY": TEST_KEY}, "nope")
    with pytest.raises(ToolSetupError, match="STRIPE_SECRET_KEY"):
        tool_settings({}, "dev")


def test_both_commands_exit_2_when_they_cannot_run(monkeypatch, capsys):
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    assert adopt.main(["--stack", "nope", "--match-metadata", "firebaseUID"]) == 2
    assert backfill.main(["--stack", "dev"]) == 2
    assert adopt.main(["--match-metadata", "k", "--rate", "0"]) == 2
    assert "tools.adopt:" in capsys.readouterr().err
