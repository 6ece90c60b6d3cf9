"""Where a notice goes, looked up when it is sent: never stored with it.

A member of staff's email and phone come from the directory as it stands then: a member
disabled since the notice was written, or who has since turned that channel off, gets nothing
(the notice is skipped). A party's phone comes from the case; an invitation to rate carries a
link made now from the invitation the event recorded (its id is a capability: it is not
copied into the outbox either).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from api.rating_links import RatingLink, sign_link
from domain.application import FengqiaoApplication
from domain.case import Case
from domain.directory import Channel
from domain.errors import CaseNotFoundError
from projections import notice_templates as nt
from projections.notifications import PARTY, Notice
from scheduler.dispatch import Skip

DIRECTORY_MAX_AGE = 5.0  # seconds a read of the directory is reused between sends


class Addresses:
    """``public_url`` and ``secret``: where rating links point and what signs them (the
    deployment's token secret, as the rating page reads them: ``api.rating_links``)."""

    def __init__(
        self, app: FengqiaoApplication, public_url: str | None, secret: str | None = None
    ) -> None:
        self.app = app
        self.public_url = public_url
        self.secret = secret

    def resolve(self, notice: Notice) -> tuple[str, Mapping[str, Any]]:
        if notice.recipient.startswith(f"{PARTY}:"):
            return self._party(notice)
        member = self.app.directory(DIRECTORY_MAX_AGE).get(notice.recipient)
        if member is None or not member.active:
            raise Skip("the member is disabled or no longer in the directory")
        channel = Channel(notice.channel)
        if channel not in member.reachable_by():
            raise Skip(f"the member takes no {channel.value} now")
        if channel is Channel.EMAIL and member.email:
            return member.email, {}
        if channel is Channel.SMS and member.phone:
            return member.phone, {}
        if channel is Channel.WEBHOOK:
            return member.user, {}
        raise Skip(f"no {channel.value} address")  # pragma: no cover - reachable_by checks

    def _party(self, notice: Notice) -> tuple[str, Mapping[str, Any]]:
        _, case_id, index_text = notice.recipient.split(":")
        index = int(index_text)
        try:
            case = self.app.get_case(UUID(case_id))
        except CaseNotFoundError:
            raise Skip("no such case") from None
        if not 0 <= index < len(case.parties) or not case.parties[index].phone:
            raise Skip("the party has no phone")
        phone = str(case.parties[index].phone)
        if notice.template != nt.RATING_INVITATION:
            return phone, {}
        link = self._link(UUID(case_id), int(notice.params["version"]), index)
        if link is None:
            raise Skip("no invitation to link to")
        return phone, {"link": link}

    def _link(self, case_id: UUID, version: int, party: int) -> str | None:
        """The signed link to the invitation the event at ``version`` gave ``party``."""
        if self.public_url is None or self.secret is None:
            return None
        events = self.app.repository.event_store.get(case_id, gt=version - 1, lte=version)
        for event in events:
            if not isinstance(event, Case.RatingInvited):
                continue
            for invitation in event.invitations:
                if int(str(invitation["party"])) == party:
                    found = RatingLink(case_id, UUID(str(invitation["id"])), event.expires_at)
                    return f"{self.public_url}/rate/{sign_link(self.secret, found)}"
        return None
