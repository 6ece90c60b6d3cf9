"""The README's command table and the ``fengqiao`` parser say the same thing.

Each row's command (``fengqiao stats UNIT [--from DATE] [--to DATE]``) must exist with every
option and positional argument it shows: an option in brackets is optional in the parser and one
without is required; ``a|b`` lists the choices; a lower-case value (``--port 8000``) is the
default; an upper-case one (``--out FILE``) only names the value. And every command and option
the parser has is in the table, so neither can drift from the other unnoticed.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.cli.main import _parser

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| `fengqiao ([^`]*)` \|", re.MULTILINE)
PLACEHOLDER = re.compile(r"^(?:[A-Z][A-Z_]*…?|…)$")  # UNIT, FILE, VIEW…, …
HELP = "-h"


@dataclass(frozen=True)
class Item:
    """One word of a row after its command: an option with its value, or a positional."""

    word: str  # "--port", or the positional as written ("UNIT", "normal|holiday|emergency")
    value: str | None  # what follows an option in the same group ("8000", "FILE")
    optional: bool  # written in brackets


@dataclass(frozen=True)
class Row:
    command: tuple[str, ...]
    items: tuple[Item, ...]
    text: str


def readme_rows() -> list[Row]:
    rows = []
    for match in ROW.finditer(README.read_text(encoding="utf-8")):
        text = match.group(1).replace("\\|", "|")
        rows.append(_row(text))
    return rows


def _row(text: str) -> Row:
    """Splits ``text`` into the command path (words the parser has as subcommands, found by
    walking it) and the items after it."""
    words = text.split()
    command: list[str] = []
    parser = _parser()
    while words and (sub := _subcommands(parser)) is not None and words[0] in sub:
        command.append(words[0])
        parser = sub[words.pop(0)]
    items: list[Item] = []
    depth = 0
    open_option = False  # the last item is an option whose group is still open
    for token in words:
        opens, closes = token.startswith("["), token.endswith("]")
        word = token.strip("[]")
        optional = depth > 0 or opens
        depth += opens
        if open_option and not opens and not word.startswith("--"):
            items[-1] = Item(items[-1].word, word, items[-1].optional)
            open_option = False
        else:
            items.append(Item(word, None, optional))
            open_option = word.startswith("--") and not closes
        depth -= closes
        open_option = open_option and not closes
    return Row(tuple(command), tuple(items), text)


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser] | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            choices: dict[str, argparse.ArgumentParser] = action.choices
            return choices
    return None


def command_parser(command: tuple[str, ...]) -> argparse.ArgumentParser:
    parser = _parser()
    for word in command:
        sub = _subcommands(parser)
        assert sub is not None, f"{' '.join(command)}: {word} is not a command"
        assert word in sub, f"no command {' '.join(command)}"
        parser = sub[word]
    return parser


def leaf_commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> dict[tuple[str, ...], argparse.ArgumentParser]:
    sub = _subcommands(parser)
    if sub is None:
        return {path: parser}
    found: dict[tuple[str, ...], argparse.ArgumentParser] = {}
    for name, child in sub.items():
        found.update(leaf_commands(child, (*path, name)))
    return found


def options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {
        string: action
        for action in parser._actions
        for string in action.option_strings
        if string.startswith("--") and HELP not in action.option_strings
    }


def positionals(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [
        action
        for action in parser._actions
        if not action.option_strings and not isinstance(action, argparse._SubParsersAction)
    ]


# --- the table against the parser ------------------------------------------------------------

ROWS = readme_rows()


def test_the_readme_has_a_command_table() -> None:
    assert len(ROWS) >= 15
    assert all(row.command for row in ROWS), [row.text for row in ROWS if not row.command]


@pytest.mark.parametrize("row", ROWS, ids=[row.text for row in ROWS])
def test_each_command_in_the_readme_exists_with_what_it_shows(row: Row) -> None:
    parser = command_parser(row.command)
    assert _subcommands(parser) is None, f"{row.text}: names a group, not a command"
    known = options(parser)
    written_positionals = []
    for item in row.items:
        if not item.word.startswith("--"):
            written_positionals.append(item)
            continue
        assert item.word in known, f"{row.text}: the parser has no {item.word}"
        action = known[item.word]
        assert action.required is not item.optional, (
            f"{row.text}: {item.word} is {'required' if action.required else 'optional'}"
        )
        if item.value is not None:
            _check_value(row, item, action)
    actions = positionals(parser)
    assert len(written_positionals) == len(actions), f"{row.text}: positional arguments differ"
    for item, action in zip(written_positionals, actions, strict=True):
        takes_none = action.nargs in ("*", "?")
        assert item.optional is takes_none, f"{row.text}: {item.word} optional or not"
        if "|" in item.word:
            assert set(item.word.split("|")) == set(action.choices or ()), row.text
        else:
            assert PLACEHOLDER.match(item.word), f"{row.text}: {item.word} is not a placeholder"


def _check_value(row: Row, item: Item, action: argparse.Action) -> None:
    assert action.nargs != 0, f"{row.text}: {item.word} takes no value"
    value = item.value or ""
    if "|" in value:
        assert set(value.split("|")) == set(action.choices or ()), f"{row.text}: {item.word}"
    elif not PLACEHOLDER.match(value):
        assert str(action.default) == value, (
            f"{row.text}: {item.word} defaults to {action.default!r}, not {value}"
        )


# --- the parser against the table ------------------------------------------------------------


def test_every_command_of_the_parser_is_in_the_readme() -> None:
    documented = {row.command for row in ROWS}
    missing = sorted(" ".join(command) for command in leaf_commands(_parser()) if command)
    missing = [command for command in missing if tuple(command.split()) not in documented]
    assert missing == [], "add a row to README.md's command table for each"


def test_every_option_of_the_parser_is_in_the_readme() -> None:
    rows = {row.command: row for row in ROWS}
    missing = []
    for command, parser in leaf_commands(_parser()).items():
        row = rows.get(command)
        if row is None:
            continue  # reported by the test above
        written = {item.word for item in row.items}
        missing += [
            f"{' '.join(command)} {name}" for name in options(parser) if name not in written
        ]
    assert missing == [], "show each option in its README.md row"


def test_the_row_reader_reads_groups_values_and_placeholders() -> None:
    row = _row("export [--unit] [--format jsonl|csv] --out FILE [VIEW…] --reason …")
    assert row.command == ("export",)
    assert row.items == (
        Item("--unit", None, True),
        Item("--format", "jsonl|csv", True),
        Item("--out", "FILE", False),
        Item("VIEW…", None, True),
        Item("--reason", "…", False),
    )
