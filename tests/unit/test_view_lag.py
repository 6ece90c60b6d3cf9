"""``/ready``'s lag: how far each view trails the log head, never below zero."""

from __future__ import annotations

from projections.viewset import measure_lag


class RacingLog:
    """A log whose followers apply every event the moment the head is read: the race that
    showed a view ahead of the head read just before it."""

    def __init__(self, head: int) -> None:
        self.top = head
        self.applied = head - 3

    def head(self) -> int:
        seen = self.top
        self.top += 5  # a command lands right after the head was read ...
        return seen

    def position(self) -> int:
        self.applied = self.top  # ... and the follower has applied it before its position is read
        return self.applied


def test_a_view_that_catches_up_during_the_measurement_shows_no_negative_lag() -> None:
    log = RacingLog(head=10)
    lag = measure_lag(log.head, {"cases": log.position, "history": log.position})
    assert lag == {"cases": 0, "history": 0}  # read head-first, both were -5


def test_a_view_behind_the_head_shows_how_far() -> None:
    assert measure_lag(lambda: 12, {"cases": lambda: 12, "statistics": lambda: 2}) == {
        "cases": 0,
        "statistics": 10,
    }


def test_a_view_read_ahead_of_the_head_is_clamped_to_zero() -> None:
    assert measure_lag(lambda: 4, {"cases": lambda: 9}) == {"cases": 0}


def test_an_empty_log_shows_no_lag() -> None:
    assert measure_lag(lambda: None, {"cases": lambda: 0}) == {"cases": 0}
