"""The Stripe side of `drift`: the key, the reads, and every failure as one line.

Every failure becomes a `LiveError` whose message is one line a person can act on (bad key,
unreachable API, unknown configuration id, missing permission). The key itself is never shown;
Stripe's own messages mask it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import requests
import stripe

from stackspec.portal_fields import READ_EXPAND

KEY_VARIABLES = ("STRIPE_API_KEY", "STRIPE_SECRET_KEY")
BASE_VARIABLE = "STRIPE_API_BASE"
STRIPE_API = "https://api.stripe.com"
STRIPE_FILES = "https://files.stripe.com"  # where file contents are downloaded from
MAX_FILE_BYTES = 4 * 1024 * 1024  # far above Stripe's 512 KB for branding images
TIMEOUT_SECONDS = 20
NETWORK_RETRIES = 1  # one retry for a dropped connection; an unreachable API fails fast


class LiveError(RuntimeError):
    """Stripe could not be asked, or refused: the message is one line."""


def api_key(environ: Mapping[str, str]) -> str:
    """The Stripe key from the environment; raises `LiveError` when none is set."""
    for name in KEY_VARIABLES:
        if environ.get(name):
            return environ[name]
    raise LiveError(f"no Stripe key: set {' or '.join(KEY_VARIABLES)} (a read-only key is enough)")


class StripeReader:
    """The reads the drift check makes, as plain dicts; `api_base` points elsewhere (stand-in)."""

    def __init__(self, key: str, api_base: str | None = None) -> None:
        self.api_base = api_base or STRIPE_API
        # Another endpoint (the stand-in) serves file contents at its own address too.
        self.files_base = api_base or STRIPE_FILES
        self._key = key
        self._client = stripe.StripeClient(
            key,
            base_addresses={"api": api_base, "files": api_base} if api_base else None,
            max_network_retries=NETWORK_RETRIES,
            http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
        )

    def configuration(self, configuration_id: str) -> dict:
        """One portal configuration, its plan-switching products expanded (Stripe leaves them
        out otherwise)."""
        with self._translated(f"portal configuration {configuration_id}"):
            found = self._client.v1.billing_portal.configurations.retrieve(
                configuration_id, params={"expand": list(READ_EXPAND)}
            )
            return found.to_dict()

    def configurations(self) -> list[dict]:
        """Every portal configuration of the account (in the key's mode), active or not, each
        with its products expanded."""
        with self._translated("portal configurations"):
            page = self._client.v1.billing_portal.configurations.list(
                params={"limit": 100, "expand": [f"data.{path}" for path in READ_EXPAND]}
            )
            return [configuration.to_dict() for configuration in page.auto_paging_iter()]

    def catalog(self, product_ids: list[str], price_ids: list[str]) -> list[dict]:
        """The products and prices with these ids (their metadata names declared ones)."""
        objects = []
        with self._translated("products and prices (to resolve declared: references)"):
            for product_id in dict.fromkeys(product_ids):
                objects.append(self._client.v1.products.retrieve(product_id).to_dict())
            for price_id in dict.fromkeys(price_ids):
                objects.append(self._client.v1.prices.retrieve(price_id).to_dict())
        return objects

    def products(self) -> list[dict]:
        """Every product of the account (to recognise the declared ones by their metadata)."""
        with self._translated("products (to find the declared ones)"):
            page = self._client.v1.products.list(params={"limit": 100})
            return [product.to_dict() for product in page.auto_paging_iter()]

    def product_features(self, product_id: str) -> list[str]:
        """The lookup keys of the features attached to a product (every page)."""
        with self._translated(f"product {product_id} (reading its features)"):
            page = self._client.v1.products.features.list(product_id, params={"limit": 100})
            return [
                str(attachment.entitlement_feature.lookup_key)
                for attachment in page.auto_paging_iter()
            ]

    def webhook_endpoints(self) -> list[dict]:
        """Every webhook endpoint of the account (in the key's mode)."""
        with self._translated("webhook endpoints"):
            page = self._client.v1.webhook_endpoints.list(params={"limit": 100})
            return [endpoint.to_dict() for endpoint in page.auto_paging_iter()]

    def webhook_endpoint(self, endpoint_id: str) -> dict:
        """One webhook endpoint."""
        with self._translated(f"webhook endpoint {endpoint_id}"):
            return self._client.v1.webhook_endpoints.retrieve(endpoint_id).to_dict()

    def account(self, account_id: str | None = None) -> dict:
        """The key's own account (`GET /v1/account`), or a connected account of it."""
        what = f"account {account_id}" if account_id else "the account (GET /v1/account)"
        with self._translated(what):
            if account_id:
                return self._client.v1.accounts.retrieve(account_id).to_dict()
            return self._client.v1.accounts.retrieve_current().to_dict()

    def file_sha256(self, file_id: str, account_id: str | None = None) -> str:
        """sha256 of a file's content (`GET files.stripe.com/v1/files/{id}/contents`), as the
        account that owns it (`Stripe-Account` for a connected account)."""
        url = f"{self.files_base.rstrip('/')}/v1/files/{file_id}/contents"
        headers = {"Authorization": f"Bearer {self._key}"}
        if account_id:
            headers["Stripe-Account"] = account_id
        try:
            with requests.get(url, headers=headers, timeout=TIMEOUT_SECONDS, stream=True) as answer:
                if answer.status_code != 200:
                    raise LiveError(_file_refusal(file_id, answer))
                digest = hashlib.sha256()
                size = 0
                for chunk in answer.iter_content(64 * 1024):
                    size += len(chunk)
                    if size > MAX_FILE_BYTES:
                        raise LiveError(f"file {file_id} is larger than any branding image")
                    digest.update(chunk)
                return digest.hexdigest()
        except requests.RequestException as error:
            reason = _network_reason(str(error))
            raise LiveError(f"Stripe could not be reached at {self.files_base}: {reason}") from None

    @contextmanager
    def _translated(self, what: str) -> Iterator[None]:
        """Turn the SDK's exceptions into a one-line `LiveError` about `what`."""
        try:
            yield
        except stripe.AuthenticationError as error:
            raise LiveError(f"Stripe refused the API key: {_message(error)}") from None
        except stripe.PermissionError as error:
            raise LiveError(f"the API key may not read {what}: {_message(error)}") from None
        except stripe.APIConnectionError as error:
            reason = _network_reason(_message(error))
            raise LiveError(f"Stripe could not be reached at {self.api_base}: {reason}") from None
        except stripe.InvalidRequestError as error:
            if error.code == "resource_missing":
                raise LiveError(f"Stripe has no {what}: {_message(error)}") from None
            raise LiveError(f"Stripe refused to return {what}: {_message(error)}") from None
        except stripe.StripeError as error:
            raise LiveError(f"Stripe failed to return {what}: {_message(error)}") from None


def _file_refusal(file_id: str, answer: requests.Response) -> str:
    """One line for a refused download; Stripe's own message when the body has one."""
    try:
        message = answer.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = f"HTTP {answer.status_code}"
    message = " ".join(str(message).split())
    if answer.status_code == 401:
        return f"Stripe refused the API key: {message}"
    if answer.status_code == 403:
        return f"the API key may not read file {file_id}: {message}"
    if answer.status_code == 404:
        return f"Stripe has no file {file_id}: {message}"
    return f"Stripe failed to return file {file_id}: {message}"


def _message(error: stripe.StripeError) -> str:
    text = error.user_message or str(error) or type(error).__name__
    return " ".join(str(text).split())  # one line, whatever the SDK put in it


def _network_reason(message: str) -> str:
    # The SDK wraps the socket error in two sentences of boilerplate; keep the cause.
    for pattern in (r"\[Errno -?\d+\] ([^\"')(]+)", r"(timed out)", r"(Name or service not known)"):
        match = re.search(pattern, message)
        if match:
            return match.group(1).strip()
    return message
