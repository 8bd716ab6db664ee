"""The local run with a team's own sign-in: the function trusts that issuer's tokens, only those.

A frontend engineer points their app at the local function; their tokens come from their real
issuer (Firebase Auth of a dev project, or any OIDC issuer), not the development sign-in. Here
"their issuer" is a second issuer of the project's own (another `iss`, another audience, other
keys), so the test needs no network.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from local.issuer import DevIssuer
from local.run.options import DEV_AUDIENCE
from tests.browser.browser_support import LocalRun, running_local_run

pytestmark = pytest.mark.integration
APP_ORIGIN = "http://localhost:3000"


@pytest.fixture(scope="module")
def team_issuer() -> Iterator[DevIssuer]:
    with DevIssuer(issuer="https://auth.acme.example/dev", audience="acme-app") as issuer:
        yield issuer


@pytest.fixture(scope="module")
def run_with_team_issuer(team_issuer: DevIssuer) -> Iterator[LocalRun]:
    args = [
        "--auth-issuer",
        team_issuer.issuer,
        "--auth-audience",
        team_issuer.audience,
        "--auth-jwks-url",
        team_issuer.jwks_url,
        "--app-origin",
        APP_ORIGIN,
    ]
    with running_local_run("local-run-team-issuer", *args) as run:
        yield run


def call(run: LocalRun, token: str) -> requests.Response:
    return requests.post(
        run.url("function"),
        headers={"Authorization": f"Bearer {token}", "Origin": APP_ORIGIN},
        timeout=30,
    )


def test_the_teams_tokens_open_the_portal_from_the_teams_app(run_with_team_issuer, team_issuer):
    response = call(run_with_team_issuer, team_issuer.mint("acme-user-1", email="a@acme.example"))
    assert response.status_code == 200, response.text
    assert response.headers["Access-Control-Allow-Origin"] == APP_ORIGIN


def test_tokens_of_any_other_issuer_are_refused(run_with_team_issuer):
    with DevIssuer(audience=DEV_AUDIENCE) as development_like:
        response = call(run_with_team_issuer, development_like.mint("dev-user"))
    assert response.status_code == 401, response.text


def test_the_page_offers_no_development_sign_in_then(run_with_team_issuer, team_issuer):
    config = requests.get(run_with_team_issuer.url("web", "/example/config.js"), timeout=10).text
    assert '"issuerTokenUrl": null' in config, config
    assert team_issuer.issuer in config  # the page says whose sign-in the function trusts


def test_the_summary_says_whose_tokens_the_function_trusts(run_with_team_issuer, team_issuer):
    log = run_with_team_issuer.process.log_text()
    assert f"the function trusts tokens of {team_issuer.issuer}" in log, log
