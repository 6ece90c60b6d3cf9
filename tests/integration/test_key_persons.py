"""重点人员 through the store and the views, on SQLite and PostgreSQL: flagging the same person
twice finds the first; the watch list matches a new case's parties by fingerprint however the
number was typed, and no longer once they are taken off it; the visit clock is flagged at the
exact instant by the scheduler's watch, once; the view rebuilt equals the live one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from api.wiring.settings import encryption_env, new_cipher_key
from domain.actors import Actor, Role
from domain.application import FengqiaoApplication
from domain.errors import InvalidInputError, KeyPersonRemovedError, NotPermittedError
from domain.key_person import FlagAnswer, KeyPerson
from domain.parties import Party
from domain.samples import sample_units
from domain.status import PartyRole
from projections.viewset import ViewSet
from scheduler.catch_up import refresher
from scheduler.key_persons import KeyPersonWatch
from tests.support import builders
from tests.support.staff import enrol_test_staff
from tests.support.views import dump
from tests.support.world import ADMIN, COUNTY, MEDIATOR, T0, TOWNSHIP, VILLAGE, Clock

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

ID_NUMBER = "51112319800109123X"
TYPED = "5111 2319 8001 0912 3x"  # as it is read out: spaces, lower-case x
SUPERVISOR = Actor(f"supervisor-{TOWNSHIP}", Role.SUPERVISOR, TOWNSHIP)
COUNTY_SUPERVISOR = Actor(f"supervisor-{COUNTY}", Role.SUPERVISOR, COUNTY)
REVIEW_ON = date(2026, 12, 31)


@pytest.fixture
def app(env: dict[str, str], clock: Clock) -> Iterator[FengqiaoApplication]:
    """An application whose store has a cipher key, so that it fingerprints."""
    keyed = {**env, **encryption_env(new_cipher_key())}
    application = FengqiaoApplication(env=keyed, clock=clock)
    application.add_units(ADMIN, sample_units(), at=T0)
    enrol_test_staff(application)
    try:
        yield application
    finally:
        application.close()


def flag_typed(
    app: FengqiaoApplication, id_number: str | None = TYPED, phone: str | None = None
) -> FlagAnswer:
    identity = app.key_person_typed("王五明", id_number, phone)
    return app.flag_key_person(SUPERVISOR, identity, "多次上访，情绪激动", REVIEW_ON)


def parties(id_number: str | None = ID_NUMBER, phone: str | None = None) -> tuple[Party, ...]:
    return (Party("王五明", PartyRole.APPLICANT, id_number, phone),)


def test_a_key_person_typed_in_is_found_in_a_new_case_and_raises_its_level(
    app: FengqiaoApplication, views: ViewSet
) -> None:
    answer = flag_typed(app)
    assert answer.new
    again = flag_typed(app, ID_NUMBER)  # the same person, typed plainly: the first flag
    assert not again.new
    assert again.person.id == answer.person.id
    views.catch_up()

    plain = builders.register(app, parties=parties())
    other = builders.register(app, parties=parties("511123199001091234"))

    assert plain.key_persons == [str(answer.person.id)]
    assert "key_person" in plain.risk_triggers
    assert other.key_persons == []
    assert "key_person" not in other.risk_triggers
    assert plain.suggested_level is not None
    assert other.suggested_level is not None
    assert plain.suggested_level.rank == other.suggested_level.rank + 1


def test_a_phone_matches_however_written_and_a_removed_person_no_longer(
    app: FengqiaoApplication, views: ViewSet
) -> None:
    person = flag_typed(app, None, "+86 138 1234 5678").person
    views.catch_up()
    matched = builders.register(app, parties=parties(None, "13812345678"))
    assert matched.key_persons == [str(person.id)]

    app.unflag_key_person(SUPERVISOR, person.id, "已化解，稳定半年")
    views.catch_up()
    later = builders.register(app, parties=parties(None, "13812345678"))
    assert later.key_persons == []
    prints = app.fingerprints
    assert prints is not None
    assert (
        views.key_persons.key_persons_among(prints.of_party(parties(None, "138 1234 5678")[0]))
        == []
    )
    with pytest.raises(KeyPersonRemovedError):
        app.record_key_person_visit(SUPERVISOR, person.id, "走访")

    back = flag_typed(app, None, "13812345678")  # flagged again: back on the list
    assert back.new
    assert back.person.id == person.id
    assert back.person.active
    views.catch_up()
    assert views.key_persons.key_persons_among([prints.phone("13812345678")]) == [person.id]


def test_a_case_party_is_flagged_from_the_case_as_stored(
    app: FengqiaoApplication, views: ViewSet
) -> None:
    case = builders.register(app)  # 张三 with an ID number and a phone, 李四 with a phone
    identity = app.key_person_of_party(case.id, 0)
    answer = app.flag_key_person(SUPERVISOR, identity, "多次纠纷", REVIEW_ON, (case.id, 0))
    person = answer.person
    assert person.case_id == str(case.id)
    assert person.party == 0
    assert len(person.fingerprints) == 2
    assert not any("5111231980" in fp or "1380000" in fp for fp in person.fingerprints)
    with pytest.raises(InvalidInputError) as refused:
        app.key_person_of_party(case.id, 2)
    assert refused.value.field == "party"
    with pytest.raises(NotPermittedError):
        app.flag_key_person(MEDIATOR, identity, "多次纠纷", REVIEW_ON)

    views.catch_up()
    item = views.key_persons.get(person.id, T0)
    assert item is not None
    assert item.name == "张*"
    assert item.source_case == str(case.id)


def test_the_visit_clock_is_flagged_overdue_at_the_exact_instant_once(
    app: FengqiaoApplication, views: ViewSet, clock: Clock
) -> None:
    person = flag_typed(app).person
    leader = f"supervisor-{TOWNSHIP}"
    with pytest.raises(InvalidInputError) as refused:  # a mediator leads nobody
        app.assign_key_person_leader(SUPERVISOR, person.id, f"mediator-{VILLAGE}")
    assert refused.value.rule == "key_person_leader"
    with pytest.raises(InvalidInputError):  # a village's supervisor is below the owner
        app.assign_key_person_leader(SUPERVISOR, person.id, f"supervisor-{VILLAGE}")
    assigned, _ = app.assign_key_person_leader(SUPERVISOR, person.id, leader)
    due = assigned.visit_due_at
    assert due == T0 + timedelta(days=7)  # policy key_person_visit: 7d

    watch = KeyPersonWatch(app, views.key_persons, refresher(views, "key_persons"))
    views.catch_up()
    assert watch.next_due(T0) == due
    assert watch.sweep(due - timedelta(microseconds=1)).flagged == {}
    assert not app.key_person(person.id).visit_flagged

    assert watch.sweep(due).flagged == {person.id: ["visit"]}
    assert app.key_person(person.id).visit_flagged == due
    assert watch.sweep(due + timedelta(hours=1)).flagged == {}  # once per due time
    views.catch_up()
    listed = views.key_persons.people(TOWNSHIP, due, "visit_overdue")
    assert [item.id for item in listed] == [person.id]
    assert views.key_persons.people(COUNTY, due)[0].leader == leader  # a subtree list
    assert views.key_persons.people(VILLAGE, due) == []

    clock.now = due + timedelta(hours=2)
    visited, _ = app.record_key_person_visit(
        Actor(leader, Role.SUPERVISOR, TOWNSHIP), person.id, "上门走访，情绪稳定"
    )
    assert visited.visit_due_at == clock.now + timedelta(days=7)
    views.catch_up()
    assert views.key_persons.people(TOWNSHIP, clock.now, "visit_overdue") == []


def test_the_review_date_is_flagged_due_and_a_review_sets_a_new_one(
    app: FengqiaoApplication, views: ViewSet, clock: Clock
) -> None:
    person = flag_typed(app).person
    review_at = person.review_at  # 2026-12-31 00:00 in Shanghai
    watch = KeyPersonWatch(app, views.key_persons, refresher(views, "key_persons"))
    assert watch.sweep(review_at - timedelta(microseconds=1)).flagged == {}
    assert watch.sweep(review_at).flagged == {person.id: ["review"]}
    clock.now = review_at + timedelta(days=1)
    with pytest.raises(InvalidInputError) as refused:
        app.review_key_person(SUPERVISOR, person.id, "继续关注", date(2026, 12, 31))
    assert refused.value.rule == "after_now"
    reviewed, _ = app.review_key_person(SUPERVISOR, person.id, "继续关注", date(2027, 6, 30))
    assert reviewed.review_flagged is None
    assert reviewed.review_at > clock.now
    views.catch_up()
    assert views.key_persons.people(TOWNSHIP, clock.now, "review_due") == []


def test_the_key_persons_view_rebuilt_equals_the_live_one(
    app: FengqiaoApplication, views: ViewSet, clock: Clock
) -> None:
    first = flag_typed(app).person
    second = flag_typed(app, None, "13912345678").person
    app.assign_key_person_leader(SUPERVISOR, first.id, f"supervisor-{TOWNSHIP}")
    app.assign_key_person_leader(COUNTY_SUPERVISOR, second.id, f"supervisor-{COUNTY}")
    clock.advance(days=8)
    KeyPersonWatch(app, views.key_persons, refresher(views, "key_persons")).sweep(clock.now)
    app.record_key_person_visit(SUPERVISOR, first.id, "走访")
    app.unflag_key_person(SUPERVISOR, second.id, "已迁出")
    views.catch_up()
    live = dump(views.key_persons)
    assert len(live["key_persons"]) == 2
    assert len(live["key_person_prints"]) == 2

    views.rebuild(["key_persons"])

    assert dump(views.key_persons) == live
    assert isinstance(app.key_person(first.id), KeyPerson)
