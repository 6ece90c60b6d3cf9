"""Every value the domain accepts, the views can hold: a case driven through every kind of
event with the largest and smallest values the bounds allow (times at the edges of the
2000–2100 range, a deadline five years out, the longest texts, the largest amounts and counts,
the longest lists, text full of quotes, backslashes, LIKE wildcards and four-byte characters)
is applied by every view on SQLite and PostgreSQL without stopping one, and a rebuild from
scratch equals the live views row for row.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from domain import bounds
from domain.actors import SYSTEM, Role
from domain.application import FengqiaoApplication
from domain.calendar import SHANGHAI
from domain.case import Registration
from domain.case.commands import (
    ActOnDeadline,
    AddAttachment,
    AddNote,
    AnswerReferral,
    AssessCase,
    AssignCase,
    CloseCase,
    EscalateCase,
    ExtendDeadline,
    LowerLevel,
    PauseCase,
    RaiseLevel,
    RateCase,
    RecordFollowUp,
    RecordJudicialConfirmation,
    RecordMediationSession,
    ReferCase,
    ReopenCase,
    RequestJudicialConfirmation,
    ResolveCase,
    ResumeCase,
    ReviewRating,
    SignCase,
    TerminateCase,
)
from domain.clocks import DeadlineKind
from domain.directory import NAME_LIMIT, StaffMember
from domain.intake import DEFAULT_CATEGORIES, KINDS, MAX_CATEGORY
from domain.levels import Level
from domain.parties import MAX_PARTIES, Party
from domain.policy_document import policy_from_document
from domain.status import Agency, AgreementForm, Channel, Grade, PartyRole, ReviewDecision
from projections.viewset import ViewSet
from tests.support.staff import enrol
from tests.support.views import dump
from tests.support.world import (
    ADMIN,
    MEDIATOR,
    REPORTER,
    SUPERVISOR,
    TOWNSHIP_MEDIATOR,
    VILLAGE,
    Clock,
)

# Quotes, backslashes, LIKE wildcards, a NUL-free control character, CJK and four-byte emoji.
ODD = "'\"\\%_;--\t调解😀𠀀"
AMOUNT = Decimal("999999999999.99")


def text(length: int) -> str:
    return (ODD * (length // len(ODD) + 1))[:length]


# The longest category a policy may hold, odd characters and all: the default vocabulary's
# words are short, so the cases are registered under a policy (read from its document, as an
# operator's is, so that the word passes the same checks) whose vocabularies add it.
CATEGORY = text(MAX_CATEGORY)
EXTREME_POLICY = policy_from_document(
    {
        "version": "extremes",
        "intake": {
            "categories": {kind: [*DEFAULT_CATEGORIES[kind], CATEGORY] for kind in KINDS},
        },
    }
)


def extreme_registration() -> Registration:
    party = Party(text(100), PartyRole.APPLICANT, "51112319800109123X", "+86-138-0000-0001",
                  text(300))  # fmt: skip
    return Registration(
        category=CATEGORY,
        summary=text(2000),
        unit=VILLAGE,
        channel=Channel.HOTLINE,
        level=Level.YELLOW,
        parties=(party,) * MAX_PARTIES,
        people_involved=1_000_000,
        amount_involved=AMOUNT,
        occurred_at=bounds.EARLIEST,
        reporter=text(128),
    )


def drive_to_the_edges(app: FengqiaoApplication, clock: Clock, at: datetime) -> list[UUID]:
    """Two cases through every kind of event, at ``at`` and after."""
    clock.now = at
    app.adopt_policy(ADMIN, EXTREME_POLICY)
    first = app.register(REPORTER, "dispute", extreme_registration()).case.id
    run = app.execute
    # a million people involved: the risk triggers made it red, and it is assessed so
    triggers = [text(200)] * bounds.MAX_TRIGGERS
    facts = {"people_involved": 1_000_000, "amount_involved": AMOUNT, "police_callouts": 1000}
    run(first, AssessCase(Level.RED, triggers, text(4000), **facts), MEDIATOR)
    # the longest user id the directory takes, a mediator of the (county) owner
    longest_id = "m" * 64
    owner = app.get_case(first).owner
    enrol(app, [StaffMember(longest_id, "调" * NAME_LIMIT, owner, (Role.MEDIATOR,))])
    run(first, AssignCase(longest_id), SUPERVISOR)
    run(first, AddAttachment(text(255), text(255), 2**62, "ab" * 32), MEDIATOR)
    run(first, AddNote(text(4000)), MEDIATOR)
    due = app.get_case(first).deadlines["resolve"].due_at
    longest = due + app.policy.extension_total.as_timedelta()  # the most the domain accepts
    run(first, ExtendDeadline(longest, text(4000)), SUPERVISOR)
    run(first, SignCase(), MEDIATOR)
    attendees = [text(128)] * bounds.MAX_ATTENDEES
    run(first, RecordMediationSession(clock.now, text(4000), attendees), MEDIATOR)
    run(first, PauseCase(text(4000), clock.now + timedelta(days=30)), SUPERVISOR)
    clock.advance(days=30)
    run(first, ResumeCase(), SUPERVISOR)
    # the latest performance date the domain takes: five years on
    latest = (clock.now.astimezone(SHANGHAI).date() + timedelta(days=366 * 5)).isoformat()
    run(first, ResolveCase(text(20000), AgreementForm.WRITTEN, AMOUNT, latest), MEDIATOR)
    run(first, RequestJudicialConfirmation(text(200)), MEDIATOR)
    run(first, RecordJudicialConfirmation(False, text(4000)), MEDIATOR)
    run(first, RecordFollowUp(False, False, text(4000)), MEDIATOR)
    run(first, RateCase(Grade.VERY_DISSATISFIED, comment=text(500)), REPORTER)
    run(first, ReviewRating(ReviewDecision.CONFIRM, text(2000)), SUPERVISOR)  # rework
    # below every risk trigger, so that its level can be raised, lowered and escalated
    quiet = replace(extreme_registration(), people_involved=1, amount_involved=None)
    second = app.register(REPORTER, "incident", quiet).case.id
    run(second, RaiseLevel(Level.ORANGE, text(4000)), MEDIATOR)
    run(second, LowerLevel(Level.YELLOW, text(4000)), SUPERVISOR)
    run(second, EscalateCase(text(4000)), SUPERVISOR)
    sign = app.get_case(second).deadlines["sign"].due_at
    clock.now = sign
    run(second, ActOnDeadline(DeadlineKind.SIGN, sign), SYSTEM)
    run(second, SignCase(), TOWNSHIP_MEDIATOR)
    run(second, ReferCase(Agency.PETITION_OFFICE, text(4000)), TOWNSHIP_MEDIATOR)
    run(second, AnswerReferral(text(4000), reference=text(100)), TOWNSHIP_MEDIATOR)
    run(second, RecordFollowUp(True, None, ""), TOWNSHIP_MEDIATOR)
    run(second, CloseCase(), TOWNSHIP_MEDIATOR)
    run(second, AddNote(text(4000)), TOWNSHIP_MEDIATOR)
    third = app.register(REPORTER, "dispute", extreme_registration()).case.id
    run(third, SignCase(), MEDIATOR)
    run(third, TerminateCase(text(4000)), MEDIATOR)
    run(third, RecordFollowUp(True, True, text(4000)), MEDIATOR)
    run(third, ReopenCase(text(4000)), SUPERVISOR)
    return [first, second, third]


@pytest.mark.parametrize(
    "at",
    [
        pytest.param(bounds.EARLIEST + timedelta(days=1), id="early-2000"),
        pytest.param(datetime(2099, 6, 1, tzinfo=UTC), id="late-2099"),
    ],
)
def test_every_view_holds_the_extremes_the_domain_accepts(
    app: FengqiaoApplication, views: ViewSet, clock: Clock, at: datetime
) -> None:
    cases = drive_to_the_edges(app, clock, at)
    assert {app.get_case(case).category for case in cases} == {CATEGORY}
    views.catch_up()
    assert views.failures() == {}
    live = {name: dump(view) for name, view in views.views.items()}

    views.rebuild()

    assert views.failures() == {}
    assert {name: dump(view) for name, view in views.views.items()} == live
