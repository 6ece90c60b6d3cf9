"""Each command is named once and used at every layer: who may send it, its URL segment, its
words in errors, and its HTTP payload of the same name."""

from __future__ import annotations

from collections import Counter

from api.http import schemas
from api.http.permissions import COMMAND_ROLES
from domain.actors import Role
from domain.case import commands
from domain.case.commands import CASE_COMMANDS


def test_every_command_declares_who_may_send_it_its_path_and_its_words() -> None:
    for command in CASE_COMMANDS:
        assert command.roles, command.__name__
        assert command.path, command.__name__
        assert command.words, command.__name__
        assert COMMAND_ROLES[command] == command.roles


def test_only_the_judicial_confirmation_pair_shares_a_path() -> None:
    shared = {path for path, n in Counter(c.path for c in CASE_COMMANDS).items() if n > 1}
    assert shared == {"judicial-confirmation"}


def test_only_the_scheduler_acts_on_deadlines() -> None:
    assert commands.ActOnDeadline.roles == frozenset({Role.SYSTEM})
    assert all(Role.SYSTEM not in c.roles for c in CASE_COMMANDS if c is not commands.ActOnDeadline)


def test_every_http_payload_is_named_after_its_command() -> None:
    payloads = schemas.CasePayload.__subclasses__()
    assert payloads
    for payload in payloads:
        if payload is schemas.JudicialConfirmation:  # one route, a request or a ruling
            continue
        assert payload.command.__name__ == payload.__name__
        assert payload.command in CASE_COMMANDS
