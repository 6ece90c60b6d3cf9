"""重复纠纷 through the store and the repeat index, on SQLite and PostgreSQL: a new case is
linked to the cases of the policy's window sharing a party (an ID number however it was typed,
a phone however it was written) or its place and category, and suggested one colour higher;
nothing outside the window or of another category at the place matches; the index holds
fingerprints, never a plain ID number or phone; rebuilt, it equals the live one; its
statistics count the repeats by unit and category.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from api.wiring.settings import encryption_env, new_cipher_key
from domain.application import FengqiaoApplication
from domain.case import Case
from domain.levels import Level
from domain.parties import Party
from domain.policy import Duration, Policy
from domain.repeats import PARTY, PLACE
from domain.samples import sample_units
from domain.status import PartyRole
from projections.repeats import repeat_statistics
from projections.viewset import ViewSet
from tests.support import builders
from tests.support.staff import enrol_test_staff
from tests.support.views import build_views, dump
from tests.support.world import (
    ADMIN,
    NEIGHBOUR_VILLAGE,
    REPORTER,
    T0,
    TOWNSHIP,
    VILLAGE,
    Clock,
)

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

ID_NUMBER = "51112319800109123X"
OTHER_ID_NUMBER = "511123199001091234"


@pytest.fixture
def keyed(env: dict[str, str], clock: Clock) -> Iterator[FengqiaoApplication]:
    """An application whose store has a cipher key: it fingerprints parties."""
    application = FengqiaoApplication(env={**env, **encryption_env(new_cipher_key())}, clock=clock)
    application.add_units(ADMIN, sample_units(), at=T0)
    enrol_test_staff(application)
    try:
        yield application
    finally:
        application.close()


@pytest.fixture
def index(
    keyed: FengqiaoApplication, env: dict[str, str], backend: str, tmp_path: Path
) -> Iterator[ViewSet]:
    viewset = build_views(keyed, env, backend, tmp_path)
    try:
        yield viewset
    finally:
        viewset.close()


def person(id_number: str | None = None, phone: str | None = None, name: str = "王五") -> Party:
    return Party(name, PartyRole.APPLICANT, id_number, phone)


def register(
    app: FengqiaoApplication,
    views: ViewSet,
    *parties: Party,
    unit: str = VILLAGE,
    category: str = "其他",
) -> Case:
    """Registers a case once the index has seen every case before it."""
    views.catch_up()
    details = builders.registration(parties=parties, unit=unit, category=category)
    return app.register(REPORTER, "dispute", details).case


def earlier(case: Case) -> list[tuple[str, list[str]]]:
    return [(entry["case_id"], entry["matched_by"]) for entry in case.repeat_of]


def test_an_id_number_typed_differently_and_a_phone_written_differently_match(
    keyed: FengqiaoApplication, index: ViewSet, clock: Clock
) -> None:
    first = register(keyed, index, person(ID_NUMBER))
    second = register(keyed, index, person(phone="13800000009"), unit=NEIGHBOUR_VILLAGE)
    clock.advance(days=3)

    by_id = register(
        keyed, index, person("5111 2319 8001 0912 3x", name="王五（二）"), unit=NEIGHBOUR_VILLAGE,
        category="邻里纠纷",
    )  # fmt: skip
    by_phone = register(
        keyed, index, person(phone="+86 138-0000-0009"), unit=VILLAGE, category="邻里纠纷"
    )
    stranger = register(
        keyed, index, person(OTHER_ID_NUMBER, "13900000000"), unit=NEIGHBOUR_VILLAGE,
        category="婚姻家庭",
    )  # fmt: skip

    assert earlier(by_id) == [(str(first.id), [PARTY])]
    assert earlier(by_phone) == [(str(second.id), [PARTY])]
    assert earlier(stranger) == []
    assert "repeat" in by_id.risk_triggers
    assert "repeat" not in stranger.risk_triggers
    assert by_id.suggested_level is Level.ORANGE
    assert stranger.suggested_level is Level.YELLOW


def test_a_place_matches_with_its_category_and_within_the_window_only(
    keyed: FengqiaoApplication, index: ViewSet, clock: Clock
) -> None:
    gate = register(keyed, index, person(ID_NUMBER), category="劳动争议")
    clock.advance(days=10)
    other_category = register(keyed, index, person(OTHER_ID_NUMBER), category="邻里纠纷")
    same_place = register(keyed, index, person(phone="13700000001"), category="劳动争议")
    elsewhere = register(
        keyed, index, person(phone="13700000002"), unit=NEIGHBOUR_VILLAGE, category="劳动争议"
    )

    assert earlier(other_category) == []
    assert earlier(same_place) == [(str(gate.id), [PLACE])]
    assert earlier(elsewhere) == []
    # the same place and category alone is linked, not raised: 小事不出村
    assert "repeat" not in same_place.risk_triggers
    assert same_place.level is Level.YELLOW

    # the window is the policy's: 180 days by default, 30 once the policy says so
    clock.advance(days=179)
    late = register(keyed, index, person(ID_NUMBER, name="赵六"), category="劳动争议")
    assert earlier(late) == [(str(same_place.id), [PLACE])], "the gate's first case is 189 days old"
    keyed.adopt_policy(
        ADMIN, replace(Policy(), version="repeats-30d", repeat_window=Duration(30, "d"))
    )
    clock.advance(days=31)
    assert earlier(register(keyed, index, person(ID_NUMBER), category="劳动争议")) == []


def test_the_third_dispute_of_a_family_is_linked_to_the_first_two_one_colour_higher(
    keyed: FengqiaoApplication, index: ViewSet, clock: Clock
) -> None:
    father, mother = person(ID_NUMBER, "13800000001"), person(OTHER_ID_NUMBER, name="王母")
    first = register(keyed, index, father, category="婚姻家庭")
    clock.advance(days=20)
    second = register(keyed, index, person(phone="138 0000 0001"), unit=NEIGHBOUR_VILLAGE)
    clock.advance(days=20)
    third = register(
        keyed, index, person("5111231980010912 3x", "+86 13800000001"),
        replace(mother, id_number="511123 199001091234"), unit=NEIGHBOUR_VILLAGE,
    )  # fmt: skip

    assert earlier(third) == [(str(first.id), [PARTY]), (str(second.id), [PARTY, PLACE])]
    assert third.suggested_level is Level.ORANGE
    assert third.level is Level.ORANGE
    assert "repeat" in third.risk_triggers
    index.catch_up()
    assert [link.case_id for link in index.repeats.repeated_by(str(first.id))] == [
        str(second.id),
        str(third.id),
    ]
    (link,) = index.repeats.repeated_by(str(second.id))
    assert (link.case_id, link.number, link.matched_by) == (
        str(third.id),
        third.number,
        (PARTY, PLACE),
    )
    known = index.repeats.known([str(first.id)])
    assert known[str(first.id)].number == first.number


def test_the_index_holds_fingerprints_only_and_rebuilds_to_the_same_rows(
    keyed: FengqiaoApplication, index: ViewSet, clock: Clock
) -> None:
    phones = ["13800000001", "13800000002", "13800000003"]
    for number, phone in zip((ID_NUMBER, OTHER_ID_NUMBER, None), phones, strict=True):
        register(keyed, index, person(number, phone))
        clock.advance(hours=5)
    index.catch_up()
    live = dump(index.repeats)
    assert len(live["marks"]) == 5
    assert len(live["cases"]) == 3
    assert len(live["links"]) == 3
    text = repr(live)
    for plain in (ID_NUMBER, OTHER_ID_NUMBER, "8613800000001", *phones, "王五"):
        assert plain not in text
    assert all(row[0].startswith(("id:", "phone:")) for row in live["marks"])

    index.rebuild(["repeats"])
    assert dump(index.repeats) == live


def test_statistics_count_repeats_by_unit_and_category(
    keyed: FengqiaoApplication, index: ViewSet, clock: Clock
) -> None:
    register(keyed, index, person(ID_NUMBER), category="邻里纠纷")
    register(keyed, index, person(ID_NUMBER), unit=NEIGHBOUR_VILLAGE, category="婚姻家庭")
    register(keyed, index, person(OTHER_ID_NUMBER), category="邻里纠纷")
    register(keyed, index, person(phone="13700000000"), unit=NEIGHBOUR_VILLAGE)
    index.catch_up()

    figures = repeat_statistics(
        index.repeats, TOWNSHIP, T0 - timedelta(days=1), T0 + timedelta(days=1)
    )

    assert (figures.total.registered, figures.total.repeats) == (4, 2)
    by_unit = {f.key: (f.registered, f.repeats, f.rate) for f in figures.by_unit}
    assert by_unit == {VILLAGE: (2, 1, 0.5), NEIGHBOUR_VILLAGE: (2, 1, 0.5)}
    by_category = {f.key: (f.registered, f.repeats) for f in figures.by_category}
    # 邻里纠纷 is the vocabulary's 邻里: the third case repeats the first's place and category
    assert by_category == {"邻里": (2, 1), "婚姻家庭": (1, 1), "其他": (1, 0)}


def test_without_a_cipher_key_nothing_is_matched_nor_fingerprinted(
    app: FengqiaoApplication, env: dict[str, str], backend: str, tmp_path: Path
) -> None:
    """A store without a key cannot fingerprint (``domain.repeats.NoHistory``): its cases are
    indexed by place for the statistics, and nobody is matched."""
    views = build_views(app, env, backend, tmp_path)
    try:
        register(app, views, person(ID_NUMBER))
        again = register(app, views, person(ID_NUMBER))
        assert app.fingerprints is None
        assert earlier(again) == []
        views.catch_up()
        assert dump(views.repeats)["marks"] == []
        assert len(dump(views.repeats)["cases"]) == 2
    finally:
        views.close()


@pytest.mark.parametrize("following", [False, True], ids=["caught-up-here", "followed"])
def test_a_second_call_about_a_family_at_once_is_linked_though_nothing_caught_up_between(
    keyed: FengqiaoApplication, index: ViewSet, following: bool
) -> None:
    """The index is a moment behind the log; a registration brings it up first: by applying
    the backlog itself in a process that follows nothing, by waiting for the followers in one
    that does (the hotline registers the second call while the first is on screen)."""
    if following:
        index.follow(subscribe=False)
    details = builders.registration(parties=(person(ID_NUMBER),), unit=VILLAGE)
    first = keyed.register(REPORTER, "dispute", details).case
    again = keyed.register(REPORTER, "dispute", details).case

    assert earlier(again) == [(str(first.id), [PARTY, PLACE])]
    assert again.risk_triggers.count("repeat") == 1


def test_a_registration_goes_through_when_the_index_cannot_be_brought_up(
    keyed: FengqiaoApplication, index: ViewSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index is a read model: one that stopped on a batch it cannot apply is stopped for
    itself; the hotline's registration is recorded all the same, linked to what the index
    knew."""
    first = register(keyed, index, person(ID_NUMBER))
    index.catch_up()

    def refuse(*_: object) -> None:
        raise OverflowError("the index cannot take this")

    monkeypatch.setattr(index.repeats, "process", refuse)
    details = builders.registration(parties=(person(ID_NUMBER),), unit=VILLAGE)
    second = keyed.register(REPORTER, "dispute", details).case
    third = keyed.register(REPORTER, "dispute", details).case

    assert index.runners["repeats"].failure is not None  # on the second's registration
    assert earlier(second) == [(str(first.id), [PARTY, PLACE])]
    assert earlier(third) == [(str(first.id), [PARTY, PLACE])]  # the index stopped before it
    assert keyed.get_case(third.id).number
