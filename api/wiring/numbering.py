"""Numbering the cases an earlier release registered without a number (一案一码).

Cases registered since numbering began carry their number from registration. Those registered
before get theirs once, in registration order, when ``serve`` starts — before it takes any new
registration, so the older cases come first in their county's sequence for the year.
"""

from __future__ import annotations

from api.wiring.bootstrap import OPERATOR
from domain.application import FengqiaoApplication
from projections.queue import unnumbered
from projections.viewset import ViewSet


def number_old_cases(app: FengqiaoApplication, views: ViewSet) -> int:
    """Numbers every case the cases view lists without a number; returns how many."""
    views.runners["cases"].catch_up()
    return app.number_cases(OPERATOR, unnumbered(views.cases))
