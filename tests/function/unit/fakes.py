"""Tiny in-memory stand-ins for the in-process tier: plain classes, each the few calls of one
interface the function's code makes, so that a single piece runs directly with scripted sources.

- `MemoryFirestore`: the document paths, `get` and `set` `BillingState` uses (writes recorded).
- `MappingStore`: `CustomerDirectory.mapping_of` and `.mark_customer_deleted`, the webhook's
  mapping reads and its one mapping write.
- `StripeReads`: `StripeGateway.customer_state`, `.customer_subscriptions` and
  `.customer_entitlements`, the webhook's Stripe reads; each customer's list answers in turn (the
  last repeats), so a test scripts Stripe changing between two reads.

They check nothing the real parts check (Firestore's paths, Stripe's parameters): that is the
HTTP tier's job, against the emulator and the stand-in.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from billing_portal.customers import CustomerMapping, Ownership
from billing_portal.stripe_api import CustomerState


class MemoryFirestore:
    """Documents by slash-separated path; `writes` lists every `set`, in order."""

    def __init__(self) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        self.writes: list[tuple[str, dict[str, Any]]] = []

    def collection(self, name: str) -> _Ref:
        return _Ref(self, name)


class _Ref:
    """A collection or a document: `document`/`collection` go one level down."""

    def __init__(self, db: MemoryFirestore, path: str) -> None:
        self._db = db
        self.path = path

    def document(self, name: str) -> _Ref:
        return _Ref(self._db, f"{self.path}/{name}")

    collection = document

    def set(self, data: dict[str, Any], **_options: Any) -> None:
        self._db.documents[self.path] = copy.deepcopy(data)
        self._db.writes.append((self.path, copy.deepcopy(data)))

    def get(self, **_options: Any) -> _Snapshot:
        return _Snapshot(copy.deepcopy(self._db.documents.get(self.path)))


@dataclasses.dataclass
class _Snapshot:
    data: dict[str, Any] | None

    @property
    def exists(self) -> bool:
        return self.data is not None

    def to_dict(self) -> dict[str, Any] | None:
        return self.data


class MappingStore:
    """Users' mappings (uid → mapping, whose: OWNED unless `ownership` says otherwise)."""

    def __init__(self, **mappings: CustomerMapping) -> None:
        self.mappings: dict[str, CustomerMapping] = dict(mappings)
        self.ownership: dict[str, Ownership] = {}
        self.reads: list[str] = []
        self.marks: list[tuple[str, str]] = []

    def mapping_of(self, uid: str) -> tuple[CustomerMapping, Ownership] | None:
        self.reads.append(uid)
        mapping = self.mappings.get(uid)
        if mapping is None:
            return None
        return mapping, self.ownership.get(uid, Ownership.OWNED)

    def mark_customer_deleted(self, uid: str, customer_id: str) -> None:
        self.marks.append((uid, customer_id))
        self.mappings[uid] = dataclasses.replace(
            self.mappings[uid], deleted_customer_id=customer_id
        )


class StripeReads:
    """Customers (id → the user its metadata names, None: none), their subscription lists and
    the lookup keys of their active entitlements."""

    def __init__(self) -> None:
        self.customers: dict[str, str | None] = {}
        self.lists: dict[str, list[list[dict[str, Any]]]] = {}
        self.entitlements: dict[str, list[list[str]]] = {}
        self.calls: list[tuple[str, str]] = []

    def customer_state(self, customer_id: str) -> CustomerState:
        self.calls.append(("customer_state", customer_id))
        if customer_id not in self.customers:
            return CustomerState(exists=False, user=None)
        return CustomerState(exists=True, user=self.customers[customer_id])

    def customer_subscriptions(self, customer_id: str) -> list[dict[str, Any]]:
        self.calls.append(("customer_subscriptions", customer_id))
        answers = self.lists.get(customer_id) or [[]]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return copy.deepcopy(answer)

    def customer_entitlements(self, customer_id: str) -> list[dict[str, Any]]:
        self.calls.append(("customer_entitlements", customer_id))
        answers = self.entitlements.get(customer_id) or [[]]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return [
            {"object": "entitlements.active_entitlement", "id": f"ent_{n}", "lookup_key": key}
            for n, key in enumerate(answer)
        ]


def mapping(customer_id: str, *, livemode: bool = False, uid: str = "u-1") -> CustomerMapping:
    """A mapping document of generation 0, as the function writes it."""
    return CustomerMapping(customer_id=customer_id, livemode=livemode, generation=0, uid=uid)
