"""What the command mixins need from the application they are mixed into.

``FengqiaoApplication`` provides each of these; the stubs let the mixins be read and type-checked
on their own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.case import Case
from domain.jurisdiction import Jurisdiction
from domain.policy import Clocks, Mode
from domain.recorded import Recorded


class ApplicationHost:
    """The application's own methods, as the command mixins call them. Each stub raises:
    ``FengqiaoApplication`` defines them all, ahead of the mixins in its MRO."""

    def _act(
        self, case_id: UUID, expected_version: int | None, decide: Callable[[Case], Any]
    ) -> Recorded:
        raise NotImplementedError

    def _now(self, at: datetime | None) -> datetime:
        raise NotImplementedError

    def units(self, refresh: bool = False) -> Jurisdiction:
        raise NotImplementedError

    def _units_knowing(self, *codes: str) -> Jurisdiction:
        raise NotImplementedError

    def clocks_for(self, case: Case, mode: Mode | None = None) -> Clocks:
        raise NotImplementedError

    def current_mode(self) -> Mode:
        raise NotImplementedError

    def get_case(self, case_id: UUID) -> Case:
        raise NotImplementedError

    # The library's Application.save: annotated only, so it can never shadow the real one.
    save: Callable[..., Any]
