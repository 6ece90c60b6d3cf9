"""好差评: invitations to the parties, a party's own rating (once, until it expires), staff who
may not rate what they handled, and 差评核实 with its clock (``domain.case._ratings``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from domain.actors import Actor, Role
from domain.case import Case
from domain.case.commands import (
    ActOnDeadline,
    AssignCase,
    CloseCase,
    RateByInvitation,
    RateCase,
    RecordMediationSession,
    ResolveCase,
    ReviewRating,
)
from domain.clocks import DeadlineKind
from domain.errors import (
    CommandNotAllowedError,
    InvalidInputError,
    InvitationExpiredError,
    InvitationUsedError,
    NotPermittedError,
    UnknownInvitationError,
)
from domain.parties import Party, PartyRole
from domain.status import AgreementForm, Flag, Grade, RatingChannel, ReviewDecision, Status
from tests.support.decider import drive, due, later, names, refused, run
from tests.support.world import MEDIATOR, REPORTER, SUPERVISOR, VILLAGE

CITIZEN = Actor("citizen", Role.CITIZEN, "")
SCHEDULER = Actor("fengqiao-scheduler", Role.SYSTEM, "")
# A village mediator who neither signed, mediated nor was assigned: may take a callback.
OTHER_MEDIATOR = Actor("mediator-7", Role.MEDIATOR, VILLAGE)


def invitation_ids(case: Case) -> list[UUID]:
    return [UUID(key) for key in case.invitations]


def resolved_case() -> tuple[Case, list[object]]:
    """A case resolved just now, and the events its resolution recorded."""
    case = drive("in_mediation")
    events = run(case, ResolveCase("李四赔偿张三500元", AgreementForm.ORAL), MEDIATOR, later(case))
    return case, events


def test_resolving_invites_each_party_with_a_phone_once_until_the_rating_window_closes() -> None:
    case, events = resolved_case()

    assert names(events) == ["Resolved", "RatingInvited"]
    invited = events[1]
    assert [i["party"] for i in invited.invitations] == [0, 1]  # both parties have phones
    assert invited.occasion == "resolved"
    assert invited.expires_at == invited.timestamp + timedelta(days=30)
    assert len(set(case.invitations)) == 2


def test_a_party_without_a_phone_is_not_invited_and_no_party_no_invitation() -> None:
    one = drive(
        "resolved",
        parties=(
            Party("张三", PartyRole.APPLICANT, phone="13800000001"),
            Party("李四", PartyRole.RESPONDENT),
        ),
    )
    nobody = drive("resolved", parties=())

    assert [party for party, _ in one.invitations.values()] == [0]
    assert nobody.invitations == {}


def test_a_party_rates_through_their_invitation_once() -> None:
    case, _ = resolved_case()
    first = invitation_ids(case)[0]

    events = run(
        case, RateByInvitation(first, Grade.SATISFIED, "调解员很耐心"), CITIZEN, later(case)
    )

    assert names(events) == ["Rated"]
    rated = events[0]
    assert (rated.channel, rated.invitation, rated.party) == ("citizen_link", str(first), 0)
    assert (rated.actor, rated.role, rated.comment) == (
        f"citizen:{first}",
        "citizen",
        "调解员很耐心",
    )
    refused(case, InvitationUsedError, RateByInvitation(first, Grade.SATISFIED), CITIZEN)
    # the other party's invitation still works
    second = invitation_ids(case)[1]
    assert names(run(case, RateByInvitation(second, Grade.SATISFIED), CITIZEN, later(case))) == [
        "Rated"
    ]


def test_an_expired_or_unknown_invitation_is_refused() -> None:
    case, events = resolved_case()
    first = invitation_ids(case)[0]
    expires_at = events[1].expires_at

    assert names(run(case, RateByInvitation(first, Grade.SATISFIED), CITIZEN, expires_at)) == [
        "Rated"
    ]  # the last instant still counts
    second = invitation_ids(case)[1]
    late = expires_at + timedelta(seconds=1)
    error = refused(
        case, InvitationExpiredError, RateByInvitation(second, Grade.SATISFIED), CITIZEN, late
    )
    assert error.expired_at == expires_at
    refused(case, UnknownInvitationError, RateByInvitation(uuid4(), Grade.SATISFIED), CITIZEN)


@pytest.mark.parametrize(
    "handler",
    [MEDIATOR, Actor("mediator-9", Role.MEDIATOR, VILLAGE)],
    ids=["signed-and-mediated", "assigned"],
)
def test_nobody_who_handled_the_case_may_record_its_rating(handler: Actor) -> None:
    case = drive("signed")
    run(case, AssignCase("mediator-9"), SUPERVISOR, later(case))
    run(case, RecordMediationSession(later(case), "调解", ["张三"]), MEDIATOR, later(case))
    run(case, ResolveCase("协议", AgreementForm.ORAL), MEDIATOR, later(case))

    error = refused(case, NotPermittedError, RateCase(Grade.VERY_SATISFIED), handler)

    assert error.needs == "someone who did not handle the case"
    events = run(
        case, RateCase(Grade.SATISFIED, RatingChannel.PHONE_CALLBACK), OTHER_MEDIATOR, later(case)
    )
    assert (events[0].actor, events[0].channel) == ("mediator-7", "phone_callback")


def test_staff_say_how_they_took_a_rating_but_never_as_a_party_link() -> None:
    case = drive("resolved")

    for channel in (RatingChannel.CITIZEN_LINK, RatingChannel.STAFF):
        error = refused(case, InvalidInputError, RateCase(Grade.SATISFIED, channel), REPORTER)
        assert error.field == "channel"
    events = run(
        case, RateCase(Grade.SATISFIED, RatingChannel.VISIT, "上门回访"), REPORTER, later(case)
    )
    assert (events[0].channel, events[0].comment) == ("visit", "上门回访")


def test_a_bad_rating_opens_a_review_due_in_five_working_days() -> None:
    case, _ = resolved_case()
    # Tue 2026-10-13 10:00 Shanghai: five working days later is the end of Tue Oct 20.
    rated_at = datetime(2026, 10, 13, 2, 0, tzinfo=UTC)

    events = run(
        case, RateByInvitation(invitation_ids(case)[0], Grade.DISSATISFIED), CITIZEN, rated_at
    )

    assert names(events) == ["Rated", "RatingReviewOpened"]
    assert Flag.RATING_REVIEW in case.flags
    review = case.pending(DeadlineKind.RATING_REVIEW)
    assert review is not None
    assert (review.rule, review.calendar) == ("5wd", "cn-statutory")
    assert review.due_at == datetime(2026, 10, 20, 16, 0, tzinfo=UTC)
    # a second bad rating while the review is open is recorded only
    second = run(case, RateCase(Grade.VERY_DISSATISFIED), REPORTER, later(case))
    assert names(second) == ["Rated"]


def test_a_review_not_made_in_time_flags_the_case() -> None:
    case, _ = resolved_case()
    run(case, RateCase(Grade.DISSATISFIED), REPORTER, later(case))
    review_due = due(case, DeadlineKind.RATING_REVIEW)

    events = run(case, ActOnDeadline(DeadlineKind.RATING_REVIEW, review_due), SCHEDULER, review_due)

    assert names(events) == ["ClockFired"]
    assert Flag.RATING_REVIEW_OVERDUE in case.flags
    run(
        case,
        ReviewRating(ReviewDecision.DISPUTE, "当事人诉求超出协议范围"),
        SUPERVISOR,
        later(case),
    )
    assert not {Flag.RATING_REVIEW, Flag.RATING_REVIEW_OVERDUE} & case.flags


def test_a_confirmed_bad_rating_sends_the_case_back_for_rework() -> None:
    case, _ = resolved_case()
    run(case, RateCase(Grade.VERY_DISSATISFIED), REPORTER, later(case))

    events = run(case, ReviewRating(ReviewDecision.CONFIRM), SUPERVISOR, later(case))

    assert names(events) == ["RatingReviewed", "Reopened"]
    assert (events[1].cause, events[1].reason) == ("rating", "差评核实属实，退回再办")
    assert case.status is Status.REOPENED
    assert DeadlineKind.RATING_REVIEW.value not in case.deadlines
    assert case.pending(DeadlineKind.RESOLVE) is not None  # the rework clock


def test_a_disputed_bad_rating_needs_a_reason_and_changes_nothing_else() -> None:
    case, _ = resolved_case()
    run(case, RateCase(Grade.DISSATISFIED), REPORTER, later(case))

    error = refused(case, InvalidInputError, ReviewRating(ReviewDecision.DISPUTE, " "), SUPERVISOR)
    assert error.field == "reason"
    refused(case, NotPermittedError, ReviewRating(ReviewDecision.CONFIRM), MEDIATOR)
    events = run(
        case,
        ReviewRating(ReviewDecision.DISPUTE, "系当事人对赔偿数额的新诉求"),
        SUPERVISOR,
        later(case),
    )

    assert names(events) == ["RatingReviewed"]
    assert case.status is Status.RESOLVED
    refused(case, CommandNotAllowedError, ReviewRating(ReviewDecision.CONFIRM), SUPERVISOR)


def test_closing_invites_again_only_when_nobody_rated_since_the_outcome() -> None:
    unrated = drive("followed_up")
    rated = drive("followed_up")
    run(rated, RateCase(Grade.SATISFIED), REPORTER, later(rated))

    assert names(run(unrated, CloseCase(), MEDIATOR, later(unrated))) == ["Closed", "RatingInvited"]
    assert names(run(rated, CloseCase(), MEDIATOR, later(rated))) == ["Closed"]
    assert len(unrated.invitations) == 4  # two at the resolution, two at the closure


def test_an_invitation_is_refused_while_the_case_is_reworked() -> None:
    case, _ = resolved_case()
    run(case, RateCase(Grade.DISSATISFIED), REPORTER, later(case))
    run(case, ReviewRating(ReviewDecision.CONFIRM), SUPERVISOR, later(case))

    error = refused(
        case,
        CommandNotAllowedError,
        RateByInvitation(invitation_ids(case)[1], Grade.SATISFIED),
        CITIZEN,
    )
    assert error.detail == "the case is being reworked"
