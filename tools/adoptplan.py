"""What `tools.adopt` does with each customer and user: pure decisions over what was read.

1. `match_customers`: each customer of the account → a candidate user, or a reason it has none.
   Sources, strongest first: `metadata.app_user_id` (this deployment's own mark), the metadata key
   the old integration wrote (`--match-metadata`), a verified email (`--users`; the rule is
   `userexport.match_key`'s). A customer of the other mode is skipped; one whose marks name two
   different users is a conflict.
2. `group_by_user`: per user, only the strongest source counts (a user matched by metadata is
   never also matched by email — so a customer that merely claims a user's email cannot outbid
   the customer the old integration recorded for them); several customers from that source make
   the user ambiguous.
3. `propose`: of an ambiguous user's customers, the newest with a subscription that has not ended,
   else the newest. Nothing is ever deleted; the others are listed for a human.
4. `decide`: with the user's mapping as Firestore has it: none → adopt; the chosen (or another of
   the user's own) customer → already mapped, or finish what an interrupted run left (metadata,
   state); another customer → a conflict left alone (the function already made the user a
   customer: a human chooses); a mapping of the other mode → left alone.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tools.userexport import AppUser, match_key, valid_uid, verified_email_index

APP_USER_KEY = "app_user_id"
# Subscription statuses of a subscription that has ended (everything else still bills or may).
ENDED = frozenset({"canceled", "incomplete_expired"})


class Source(enum.IntEnum):
    """How a customer was matched to a user; lower is stronger."""

    APP_USER_ID = 0
    METADATA = 1
    EMAIL = 2


class Unmatched(enum.Enum):
    """Why a customer has no user."""

    OTHER_MODE = "other_mode"  # the customer is of the other livemode: never touched
    CONFLICTING_MARKS = "conflicting_marks"  # app_user_id and the old key name different users
    UNKNOWN_USER = "unknown_user"  # its metadata names a uid the user export does not have
    INVALID_UID = "invalid_uid"  # its metadata value is not a user id
    NO_EMAIL = "no_email"
    EMAIL_NOT_PLAIN = "email_not_plain"  # not a plain ASCII address: never matched by email
    EMAIL_UNKNOWN = "email_unknown"  # no user has this email verified
    EMAIL_SHARED = "email_shared"  # several users have it verified
    NO_RULE = "no_rule"  # neither --match-metadata nor --users could apply
    OUTRANKED = "outranked"  # its user was matched by a stronger source to other customers


class Action(enum.Enum):
    """What happens to a matched user."""

    ADOPT = "adopt"  # write the mapping, mark the customer, sync the state
    COMPLETE = "complete"  # mapped to it already; mark and/or sync what is missing
    ALREADY_MAPPED = "already_mapped"  # nothing to do
    MAPPED_ELSEWHERE = "mapped_elsewhere"  # conflict: mapped to a customer none of its matches
    MAPPING_OTHER_MODE = "mapping_other_mode"  # conflict: mapped in the other mode
    MAPPING_UNREADABLE = "mapping_unreadable"  # conflict: malformed or another user's document


NEEDS_HUMAN = frozenset(
    {Action.MAPPED_ELSEWHERE, Action.MAPPING_OTHER_MODE, Action.MAPPING_UNREADABLE}
)
WRITES = frozenset({Action.ADOPT, Action.COMPLETE})


@dataclass(frozen=True)
class Customer:
    """The fields of a Stripe customer the decisions read."""

    id: str
    email: str | None
    metadata: Mapping[str, str]
    created: int
    livemode: bool

    @classmethod
    def from_stripe(cls, data: Mapping[str, Any]) -> Customer:
        """From a customer object as Stripe lists it (anything unexpected reads as absent)."""
        metadata = data.get("metadata")
        created = data.get("created")
        return cls(
            id=str(data["id"]),
            email=data.get("email") if isinstance(data.get("email"), str) else None,
            metadata={str(k): v for k, v in (metadata or {}).items() if isinstance(v, str)}
            if isinstance(metadata, dict)
            else {},
            created=created if isinstance(created, int) and not isinstance(created, bool) else 0,
            livemode=data.get("livemode") is True,
        )


@dataclass(frozen=True)
class Rule:
    """How customers are matched: a metadata key, a user export, or both."""

    metadata_key: str | None = None
    users: tuple[AppUser, ...] | None = None


@dataclass(frozen=True)
class Candidate:
    customer: Customer
    uid: str
    source: Source


@dataclass(frozen=True)
class Skipped:
    customer: Customer
    reason: Unmatched
    uid: str | None = None  # the user it was outranked for, when OUTRANKED


def match_customers(
    customers: Iterable[Customer], rule: Rule, livemode: bool
) -> tuple[list[Candidate], list[Skipped]]:
    """Each customer's candidate user, or why it has none. Pure."""
    known = {user.uid for user in rule.users} if rule.users is not None else None
    emails, shared = (
        verified_email_index(list(rule.users)) if rule.users is not None else ({}, set())
    )
    candidates: list[Candidate] = []
    skipped: list[Skipped] = []
    for customer in customers:
        found = _match_one(customer, rule, livemode, known, emails, shared)
        (candidates if isinstance(found, Candidate) else skipped).append(found)
    return candidates, skipped


def _match_one(
    customer: Customer,
    rule: Rule,
    livemode: bool,
    known: set[str] | None,
    emails: Mapping[str, str],
    shared: set[str],
) -> Candidate | Skipped:
    if customer.livemode != livemode:
        return Skipped(customer, Unmatched.OTHER_MODE)
    marks = [
        (source, customer.metadata.get(key))
        for source, key in (
            (Source.APP_USER_ID, APP_USER_KEY),
            (Source.METADATA, rule.metadata_key),
        )
        if key is not None and customer.metadata.get(key) not in (None, "")
    ]
    if len({value for _, value in marks}) > 1:
        return Skipped(customer, Unmatched.CONFLICTING_MARKS)
    if marks:
        source, uid = marks[0]
        if not valid_uid(uid):
            return Skipped(customer, Unmatched.INVALID_UID)
        assert uid is not None
        if known is not None and uid not in known and source is Source.METADATA:
            return Skipped(customer, Unmatched.UNKNOWN_USER)
        return Candidate(customer, uid, source)
    if rule.users is None:
        return Skipped(customer, Unmatched.NO_RULE)
    if customer.email is None or customer.email == "":
        return Skipped(customer, Unmatched.NO_EMAIL)
    key = match_key(customer.email)
    if key is None:
        return Skipped(customer, Unmatched.EMAIL_NOT_PLAIN)
    if key in shared:
        return Skipped(customer, Unmatched.EMAIL_SHARED)
    if key not in emails:
        return Skipped(customer, Unmatched.EMAIL_UNKNOWN)
    return Candidate(customer, emails[key], Source.EMAIL)


@dataclass(frozen=True)
class UserMatch:
    """A user and the customers matched to them by their strongest source."""

    uid: str
    source: Source
    customers: tuple[Customer, ...]  # newest first

    @property
    def ambiguous(self) -> bool:
        return len(self.customers) > 1


def _newest_first(customers: Iterable[Customer]) -> tuple[Customer, ...]:
    return tuple(sorted(customers, key=lambda c: (c.created, c.id), reverse=True))


def group_by_user(candidates: Iterable[Candidate]) -> tuple[list[UserMatch], list[Skipped]]:
    """Per user, the customers of their strongest source; the rest are outranked. Pure."""
    by_user: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_user.setdefault(candidate.uid, []).append(candidate)
    matches: list[UserMatch] = []
    outranked: list[Skipped] = []
    for uid in sorted(by_user):
        best = min(candidate.source for candidate in by_user[uid])
        chosen = [c.customer for c in by_user[uid] if c.source == best]
        matches.append(UserMatch(uid, best, _newest_first(chosen)))
        outranked += [
            Skipped(c.customer, Unmatched.OUTRANKED, uid) for c in by_user[uid] if c.source != best
        ]
    return matches, outranked


def propose(match: UserMatch, live_subscription: Mapping[str, bool]) -> Customer:
    """The customer to adopt: the newest with a subscription that has not ended, else the
    newest. `live_subscription` says, per customer id, whether it has one. Pure."""
    for customer in match.customers:
        if live_subscription.get(customer.id):
            return customer
    return match.customers[0]


def has_live_subscription(subscriptions: Iterable[Mapping[str, Any]]) -> bool:
    """Whether any of a customer's subscriptions has not ended. Pure."""
    return any(subscription.get("status") not in ENDED for subscription in subscriptions)


@dataclass(frozen=True)
class MappingView:
    """The user's mapping as read (None fields: no mapping), and what else is in place."""

    customer_id: str | None = None
    livemode: bool | None = None
    unreadable: bool = False
    state_customer: str | None = None  # the customer the user's state document is of


@dataclass(frozen=True)
class UserPlan:
    """The decision for one user."""

    uid: str
    customer: Customer
    source: Source
    action: Action
    alternatives: tuple[str, ...] = ()  # an ambiguous user's other customers, never touched
    mapped_to: str | None = None  # the customer the user is mapped to, when not `customer`
    needs_tag: bool = False  # the customer's metadata.app_user_id must be set
    needs_sync: bool = False  # the user's state is not yet of this customer
    notes: tuple[str, ...] = field(default=())


def decide(match: UserMatch, chosen: Customer, view: MappingView, livemode: bool) -> UserPlan:
    """What to do for one matched user, given their mapping as it is now. Pure."""
    alternatives = tuple(c.id for c in match.customers if c.id != chosen.id)

    def plan(action: Action, customer: Customer = chosen, **extra: Any) -> UserPlan:
        others = tuple(c.id for c in match.customers if c.id != customer.id)
        return UserPlan(match.uid, customer, match.source, action, others, **extra)

    if view.unreadable:
        return plan(Action.MAPPING_UNREADABLE)
    if view.customer_id is None:
        return UserPlan(
            match.uid,
            chosen,
            match.source,
            Action.ADOPT,
            alternatives,
            needs_tag=chosen.metadata.get(APP_USER_KEY) != match.uid,
            needs_sync=True,
        )
    if view.livemode != livemode:
        return plan(Action.MAPPING_OTHER_MODE, mapped_to=view.customer_id)
    mapped = next((c for c in match.customers if c.id == view.customer_id), None)
    if mapped is None:
        return plan(Action.MAPPED_ELSEWHERE, mapped_to=view.customer_id)
    needs_tag = mapped.metadata.get(APP_USER_KEY) != match.uid
    needs_sync = view.state_customer != mapped.id
    action = Action.COMPLETE if needs_tag or needs_sync else Action.ALREADY_MAPPED
    return plan(action, mapped, needs_tag=needs_tag, needs_sync=needs_sync)
