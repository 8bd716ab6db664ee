"""Helpers for the review tests: run the CLI in-process, and edit copies of stack files."""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from review.cli import main
from stackspec.settings import Settings
from stackspec.webhook_spec import (
    WEBHOOK_EVENTS,
    webhook_api_version,
    webhook_metadata,
    webhook_url,
)

REPO = Path(__file__).resolve().parents[2]
STACK_FILES = sorted(REPO.glob("Pulumi.*.yaml"))

# Ids standing in for the products and prices Pulumi creates for the dev stack's catalog.
DEV_PRODUCT_IDS = {
    "declared:team": "prod_DevTeam0001",
    "declared:team/monthly": "price_DevTeamMonthly01",
    "declared:team/yearly": "price_DevTeamYearly001",
    "declared:business": "prod_DevBusiness01",
    "declared:business/monthly": "price_DevBusinessMon01",
}


@dataclass(frozen=True)
class Result:
    """What one CLI run returned and printed."""

    code: int
    out: str
    err: str


def run(*argv: str, environ: Mapping[str, str] | None = None) -> Result:
    """`python -m review …argv`, in this process."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), environ=environ or {}, stdout=out, stderr=err)
    return Result(code, out.getvalue(), err.getvalue())


def copy_stacks(directory: Path, *stacks: str) -> Path:
    """Copies of the repository's stack files (all by default) in `directory`, with the
    project file beside them (as in any Pulumi project) and the branding images they name."""
    names = stacks or tuple(path.name.split(".")[1] for path in STACK_FILES)
    shutil.copy(REPO / "Pulumi.yaml", directory / "Pulumi.yaml")
    for stack in names:
        shutil.copy(REPO / f"Pulumi.{stack}.yaml", directory / f"Pulumi.{stack}.yaml")
    shutil.copytree(REPO / "branding", directory / "branding", dirs_exist_ok=True)
    return directory


def stack_config(path: Path) -> dict[str, Any]:
    """The `config:` mapping of a stack file."""
    return dict(yaml.safe_load(path.read_text(encoding="utf-8"))["config"])


def edit_stack(path: Path, key: str, *inner: str, value: Any) -> None:
    """Set a config value in a stack file: `key` and, inside a structured key, the `inner` path;
    `value=None` removes it (a key without a value is a mistake the settings refuse)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    target = document["config"]
    for name in (key, *inner)[:-1]:
        target = target.setdefault(name, {})
    last = (key, *inner)[-1]
    if value is None:
        target.pop(last, None)
    else:
        target[last] = value
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def upload_image(standin: Any, image: Any, account: str | None = None) -> str:
    """Upload a stack's image to the stand-in (as `account` if named); returns the file id."""
    content = io.BytesIO(image.data)
    content.name = Path(image.path).name  # as a browser upload names it
    options = {"stripe_account": account} if account else {}
    params = {"purpose": image.purpose, "file": content}
    return standin.client().v1.files.create(params=params, options=options).id


def brand_as_declared(standin: Any, settings: Settings, account: str | None = None) -> dict:
    """Give an account the branding a stack declares, as the Dashboard step leaves it: the images
    uploaded anew (so their file ids are not Pulumi's), the colours as declared. Returns the
    `settings.branding` values set."""
    branding = settings.branding
    values = {
        field: upload_image(standin, image, account)
        for field, image in (("icon", branding.icon), ("logo", branding.logo))
        if image is not None
    }
    for field in ("primary_color", "secondary_color"):
        if getattr(branding, field):
            values[field] = getattr(branding, field)
    if account:
        standin.client().v1.accounts.update(account, params={"settings": {"branding": values}})
    else:
        standin.set_branding(**values)
    return values


def create_webhook_endpoint(standin: Any, settings: Settings, **changes: Any) -> dict:
    """The stack's webhook endpoint as `pulumi up` creates it (`infra.webhook`), with `changes`
    to its create parameters; returns the endpoint (with its secret, as Stripe returns it)."""
    params = {
        "url": webhook_url(settings),
        "enabled_events": list(WEBHOOK_EVENTS),
        "api_version": webhook_api_version(),
        "metadata": webhook_metadata(settings.stack),
        **changes,
    }
    return standin.client().v1.webhook_endpoints.create(params=params).to_dict()


def git(directory: Path, *args: str) -> str:
    """Run git in `directory` with a fixed identity; returns stdout."""
    command = ["git", "-c", "user.name=Reviewer", "-c", "user.email=reviewer@example.com"]
    result = subprocess.run(
        [*command, *args], cwd=directory, capture_output=True, text=True, check=True
    )
    return result.stdout


def settings_in_table(markdown: str) -> list[str]:
    """The setting names of the table rows in a Markdown report (first cell, unquoted)."""
    names = []
    for line in markdown.splitlines():
        if line.startswith("| `"):
            names.append(line.split("`")[1])
    return names


def table_row(markdown: str, setting: str) -> list[str]:
    """The cells of the row for `setting` (the first cell without its quotes and mark)."""
    for line in markdown.splitlines():
        if line.startswith(f"| `{setting}`"):
            return [cell.strip() for cell in line.strip().strip("|").split(" | ")]
    raise AssertionError(f"no table row for {setting!r} in:\n{markdown}")
