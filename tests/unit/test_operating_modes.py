"""The mode in force at a unit: the nearest setting on the unit or above it (the city's is the
default below it, normal when none was ever switched); only a city or a county has one; a
county can go back to following the city; a switch recorded before per-unit modes (no unit) is
the city's."""

from __future__ import annotations

import pytest

from domain.errors import InvalidInputError
from domain.jurisdiction import Jurisdiction
from domain.operations import ROOT, ModeInForce, Operations
from domain.policy import Mode
from domain.samples import sample_units
from tests.support.world import COUNTY, OTHER_COUNTY, T0, TOWNSHIP, VILLAGE

CITY = "511100"
OTHER_COUNTY_VILLAGE = "511102001001"


@pytest.fixture
def units() -> Jurisdiction:
    tree = Jurisdiction.create(T0)
    for unit in sample_units():
        tree.add_unit(unit, "test", T0)
    return tree


def switch(ops: Operations, units: Jurisdiction, code: str, mode: Mode | None) -> None:
    ops.switch(mode, "演练", "supervisor-1", "supervisor", T0, units.get(code))


def test_nothing_set_is_normal_everywhere_from_no_unit(units: Jurisdiction) -> None:
    ops = Operations.create(T0)
    assert ops.in_force(units, VILLAGE) == ModeInForce(VILLAGE, Mode.NORMAL, None, False)
    assert ops.in_force(units, CITY) == ModeInForce(CITY, Mode.NORMAL, None, False)


def test_the_nearest_setting_applies(units: Jurisdiction) -> None:
    ops = Operations.create(T0)
    switch(ops, units, CITY, Mode.EMERGENCY)
    switch(ops, units, COUNTY, Mode.HOLIDAY)
    assert ops.in_force(units, VILLAGE) == ModeInForce(VILLAGE, Mode.HOLIDAY, COUNTY, False)
    assert ops.in_force(units, TOWNSHIP).mode is Mode.HOLIDAY
    assert ops.in_force(units, COUNTY) == ModeInForce(COUNTY, Mode.HOLIDAY, COUNTY, True)
    # the sibling county has none: the city's
    assert ops.in_force(units, OTHER_COUNTY_VILLAGE) == ModeInForce(
        OTHER_COUNTY_VILLAGE, Mode.EMERGENCY, CITY, False
    )
    assert ops.in_force(units, CITY) == ModeInForce(CITY, Mode.EMERGENCY, CITY, True)


def test_a_county_that_set_normal_keeps_it_under_a_city_emergency(units: Jurisdiction) -> None:
    ops = Operations.create(T0)
    switch(ops, units, COUNTY, Mode.NORMAL)  # pinned to normal though the city is normal too
    switch(ops, units, CITY, Mode.EMERGENCY)
    assert ops.mode_at(units, VILLAGE) is Mode.NORMAL
    assert ops.mode_at(units, OTHER_COUNTY) is Mode.EMERGENCY


def test_a_county_goes_back_to_following_the_city(units: Jurisdiction) -> None:
    ops = Operations.create(T0)
    switch(ops, units, COUNTY, Mode.EMERGENCY)
    switch(ops, units, CITY, Mode.HOLIDAY)
    switch(ops, units, COUNTY, None)
    assert ops.in_force(units, VILLAGE) == ModeInForce(VILLAGE, Mode.HOLIDAY, CITY, False)
    with pytest.raises(InvalidInputError, match="already follows the city"):
        switch(ops, units, COUNTY, None)


def test_only_a_city_or_county_has_a_mode_and_the_city_follows_nobody(
    units: Jurisdiction,
) -> None:
    ops = Operations.create(T0)
    for code in (TOWNSHIP, VILLAGE):
        with pytest.raises(InvalidInputError) as refused:
            switch(ops, units, code, Mode.EMERGENCY)
        assert refused.value.field == "unit"
    with pytest.raises(InvalidInputError) as refused:
        switch(ops, units, CITY, None)
    assert refused.value.field == "mode"
    assert ops.pending_events[1:] == []  # nothing recorded (the first is Created)


def test_the_same_mode_again_is_refused(units: Jurisdiction) -> None:
    ops = Operations.create(T0)
    with pytest.raises(InvalidInputError, match="already in normal"):
        switch(ops, units, CITY, Mode.NORMAL)
    switch(ops, units, COUNTY, Mode.HOLIDAY)
    with pytest.raises(InvalidInputError, match="already in holiday"):
        switch(ops, units, COUNTY, Mode.HOLIDAY)


def test_a_switch_recorded_without_a_unit_is_the_citys_and_the_later_one_holds(
    units: Jurisdiction,
) -> None:
    """Stored switches from before per-unit modes have no unit (``ROOT``); the city's own
    switches since name its code."""
    ops = Operations.create(T0)
    ops.trigger_event(
        Operations.ModeSwitched, mode="emergency", reason="旧", actor="a", role="admin",
        timestamp=T0,
    )  # fmt: skip
    assert ops.pending_events[-1].unit == ROOT  # type: ignore[attr-defined]
    assert ops.in_force(units, VILLAGE) == ModeInForce(VILLAGE, Mode.EMERGENCY, CITY, False)
    switch(ops, units, CITY, Mode.HOLIDAY)
    assert ops.mode_at(units, VILLAGE) is Mode.HOLIDAY
    with pytest.raises(InvalidInputError, match="already in holiday"):
        switch(ops, units, CITY, Mode.HOLIDAY)
