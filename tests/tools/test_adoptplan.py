"""The adoption's decisions, pure: which customer a user gets, and what is left alone."""

from __future__ import annotations

from tools.adoptplan import (
    Action,
    Customer,
    MappingView,
    Rule,
    Source,
    Unmatched,
    UserMatch,
    decide,
    group_by_user,
    has_live_subscription,
    match_customers,
    propose,
)
from tools.userexport import AppUser


def cus(cid: str, created: int = 1, livemode: bool = False, email=None, **metadata) -> Customer:
    return Customer(cid, email, metadata, created, livemode)


def test_a_customer_of_the_other_mode_is_skipped_whatever_it_says():
    candidates, skipped = match_customers(
        [cus("cus_live", livemode=True, firebaseUID="u1")], Rule("firebaseUID"), livemode=False
    )
    assert candidates == [] and skipped[0].reason is Unmatched.OTHER_MODE


def test_marks_naming_two_users_are_a_conflict_not_a_guess():
    _, skipped = match_customers(
        [cus("cus_1", app_user_id="u1", firebaseUID="u2")], Rule("firebaseUID"), False
    )
    assert skipped[0].reason is Unmatched.CONFLICTING_MARKS


def test_this_deployments_own_mark_outranks_the_old_key():
    candidates, _ = match_customers(
        [cus("cus_1", app_user_id="u1"), cus("cus_2", created=5, firebaseUID="u1")],
        Rule("firebaseUID"),
        False,
    )
    (match,), outranked = group_by_user(candidates)
    assert match.source is Source.APP_USER_ID and [c.id for c in match.customers] == ["cus_1"]
    assert outranked[0].customer.id == "cus_2"


def test_a_metadata_uid_the_export_lacks_is_unknown_and_an_invalid_one_is_refused():
    users = (AppUser("u1", None, False),)
    _, skipped = match_customers(
        [cus("cus_1", firebaseUID="u9"), cus("cus_2", firebaseUID=" u1")],
        Rule("firebaseUID", users),
        False,
    )
    assert [s.reason for s in skipped] == [Unmatched.UNKNOWN_USER, Unmatched.INVALID_UID]


def test_ambiguous_proposes_the_newest_with_a_subscription_that_has_not_ended():
    newest_first = (cus("cus_new", 3), cus("cus_mid", 2), cus("c_old", 1))
    match = UserMatch("u1", Source.METADATA, newest_first)
    assert propose(match, {"cus_mid": True, "c_old": True}).id == "cus_mid"
    assert propose(match, {}).id == "cus_new"


def test_an_ended_subscription_does_not_count_as_live():
    assert not has_live_subscription([{"status": "canceled"}, {"status": "incomplete_expired"}])
    assert has_live_subscription([{"status": "canceled"}, {"status": "past_due"}])


def test_an_unmapped_user_is_adopted_with_the_mark_and_the_sync():
    match = UserMatch("u1", Source.EMAIL, (cus("cus_1"),))
    plan = decide(match, match.customers[0], MappingView(), livemode=False)
    assert (plan.action, plan.needs_tag, plan.needs_sync) == (Action.ADOPT, True, True)


def test_a_user_mapped_to_another_customer_is_left_alone_as_a_conflict():
    match = UserMatch("u1", Source.METADATA, (cus("cus_old"),))
    view = MappingView("cus_made_by_function", livemode=False)
    plan = decide(match, match.customers[0], view, livemode=False)
    assert plan.action is Action.MAPPED_ELSEWHERE and plan.mapped_to == "cus_made_by_function"


def test_a_mapping_of_the_other_mode_is_left_alone():
    match = UserMatch("u1", Source.METADATA, (cus("cus_1"),))
    plan = decide(match, match.customers[0], MappingView("cus_1", livemode=True), livemode=False)
    assert plan.action is Action.MAPPING_OTHER_MODE


def test_a_user_mapped_to_one_of_their_own_customers_keeps_it_over_the_proposal():
    match = UserMatch("u1", Source.METADATA, (cus("cus_new", 2), cus("cus_old", 1)))
    view = MappingView("cus_old", livemode=False, state_customer="cus_old")
    tagged = UserMatch(
        "u1", Source.METADATA, (cus("cus_new", 2), cus("cus_old", 1, app_user_id="u1"))
    )
    plan = decide(tagged, tagged.customers[0], view, livemode=False)
    assert plan.action is Action.ALREADY_MAPPED and plan.customer.id == "cus_old"
    assert plan.alternatives == ("cus_new",)
    untagged = decide(match, match.customers[0], view, livemode=False)
    assert (untagged.action, untagged.needs_tag, untagged.needs_sync) == (
        Action.COMPLETE,
        True,
        False,
    )


def test_what_an_interrupted_run_left_is_finished_and_a_finished_user_is_left_alone():
    done = cus("cus_1", app_user_id="u1")
    match = UserMatch("u1", Source.METADATA, (done,))
    no_state = decide(match, done, MappingView("cus_1", livemode=False), livemode=False)
    assert (no_state.action, no_state.needs_tag, no_state.needs_sync) == (
        Action.COMPLETE,
        False,
        True,
    )
    finished = MappingView("cus_1", livemode=False, state_customer="cus_1")
    assert decide(match, done, finished, livemode=False).action is Action.ALREADY_MAPPED


def test_an_unreadable_mapping_is_a_conflict():
    match = UserMatch("u1", Source.METADATA, (cus("cus_1"),))
    plan = decide(match, match.customers[0], MappingView(unreadable=True), livemode=False)
    assert plan.action is Action.MAPPING_UNREADABLE


def test_the_progress_bar_draws_on_a_terminal_only():
    import io

    from tools.adopt import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for stream, drawn in ((io.StringIO(), False), (Terminal(), True)):
        bar = Progress(stream, stream.isatty())
        bar.show("adopting", 3, 10)
        bar.end()
        assert ("3/10" in stream.getvalue()) is drawn
