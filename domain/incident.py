"""Incidents (事件/安全隐患): a hazard or event to make safe.

An incident runs the same lifecycle as a dispute, but its "agreement" is the rectification
(整改) and its verification; there is nothing for a court to confirm.
"""

from __future__ import annotations

from domain.case import Case


class Incident(Case):
    """A hazard or event reported by a grid worker or the hotline, worked until made safe."""

    KIND = "incident"
