"""The policy book: every policy version ever adopted, kept in the event log.

Cases keep the policy version they were registered under. Keeping each adopted version's full
document in the log means a case's rules survive restarts, policy-file edits and new
versions: the rules stay frozen per case, whatever file the server starts with today.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import PolicyError
from domain.policy import Policy
from domain.policy_document import policy_from_document, policy_to_document

POLICY_BOOK_ID = uuid5(NAMESPACE_URL, "https://fengqiao.example/policy-book")


class PolicyBook(Aggregate):
    class Created(Aggregate.Created):
        pass

    class Adopted(Aggregate.Event):
        version: str
        document: dict[str, Any]
        actor: str

        def apply(self, aggregate: PolicyBook) -> None:
            aggregate.documents[self.version] = self.document
            aggregate.current = self.version

    def __init__(self) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        self.current: str | None = None

    @classmethod
    def create(cls, at: datetime) -> PolicyBook:
        return cls._create(cls.Created, id=POLICY_BOOK_ID, timestamp=at)

    def adopt(self, policy: Policy, actor: str, at: datetime) -> bool:
        """Records ``policy`` unless it is already the current one. A version's content can
        never change: adopting different rules under a known version is refused."""
        document = policy_to_document(policy)
        known = self.documents.get(policy.version)
        if known is not None and known != document:
            raise PolicyError(
                "version",
                f"{policy.version!r} was adopted before with other rules: give changed rules "
                "a new version",
            )
        if known is not None and self.current == policy.version:
            return False
        self.trigger_event(
            self.Adopted, version=policy.version, document=document, actor=actor, timestamp=at
        )
        return True

    def get(self, version: str) -> Policy:
        document = self.documents.get(version)
        if document is None:
            raise PolicyError("version", f"no policy {version!r} was ever adopted")
        return policy_from_document(document)
