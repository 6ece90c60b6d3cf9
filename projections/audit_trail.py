"""The audit file format: JSON Lines (or CSV) records in a SHA-256 hash chain, and its check.

Each record is one event. Its canonical form is its compact JSON with the keys in the order
below and without ``hash``; ``hash`` is the SHA-256 of that canonical form, and ``prev`` (inside
it) is the previous record's hash (64 zeros for the first). In a JSON Lines file ``hash`` is
always the last member, so a line with ``,"hash":"…"}`` cut off and ``}`` put back is exactly
the canonical form: any SHA-256 tool can check a line (docs/audit-format.md). The last line is
the manifest: the filter, the count, first and last positions and the final hash, itself
chained and hashed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from projections import rfc9162
from projections.leaf import leaf_of_record

GENESIS = "0" * 64
# the fields of a record of an export without tree fields (before issue 16, or tree=False)
CHAIN_FIELDS = (
    "seq", "position", "case_id", "case_version", "event_type", "at_utc", "at_local",
    "actor", "role", "unit", "payload", "prev",
)  # fmt: skip
# a record's tree fields, after the payload: enough to recompute its leaf and prove it in the
# signed head of the manifest (docs/audit-format.md, "Records in the signed tree")
TREE_FIELDS = ("topic", "stored_sha256", "tree_index", "proof")
FIELDS = (*CHAIN_FIELDS[:-1], *TREE_FIELDS, "prev")
_INT_FIELDS = {"seq", "position", "case_version", "tree_index"}
_JSON_FIELDS = {"payload", "proof"}  # written in a CSV column as their canonical JSON
_HASH_TAIL = re.compile(r',"hash":"([0-9a-f]{64})"\}$')


def canonical(record: dict[str, Any]) -> str:
    """Compact JSON, keys in the record's own order (payloads are key-sorted when built)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ChainWriter:
    """Writes records, chaining each to the one before; ``finish`` writes the manifest."""

    def __init__(self, out: TextIO, form: str = "jsonl", tree: bool = True) -> None:
        if form not in ("jsonl", "csv"):
            raise ValueError("format must be jsonl or csv")
        self.out = out
        self.form = form
        self.fields = FIELDS if tree else CHAIN_FIELDS
        self.prev = GENESIS
        self.count = 0
        self.first_position: int | None = None
        self.last_position: int | None = None
        self._csv = csv.writer(out, lineterminator="\n") if form == "csv" else None
        if self._csv is not None:
            self._csv.writerow([*self.fields, "hash"])

    def write(self, record: dict[str, Any]) -> None:
        self.count += 1
        body = {"seq": self.count, **record, "prev": self.prev}
        ordered = {name: body[name] for name in self.fields}
        text = canonical(ordered)
        digest = sha256(text)
        if self._csv is not None:
            row = [canonical(v) if name in _JSON_FIELDS else v for name, v in ordered.items()]
            self._csv.writerow([*row, digest])
        else:  # the canonical form with the hash as its last member, encoded once
            self.out.write(f'{text[:-1]},"hash":"{digest}"}}\n')
        self.prev = digest
        self.first_position = self.first_position or record["position"]
        self.last_position = record["position"]

    def finish(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Appends the manifest (count, positions, final hash) as the last, chained record."""
        summary = {
            **manifest,
            "count": self.count,
            "first_position": self.first_position,
            "last_position": self.last_position,
            "final_hash": self.prev,
        }
        body = {"manifest": summary, "prev": self.prev}
        digest = sha256(canonical(body))
        if self._csv is not None:
            self._csv.writerow(["manifest", canonical(body), digest])
        else:
            self.out.write(canonical({**body, "hash": digest}) + "\n")
        return summary


@dataclass(frozen=True)
class Verdict:
    ok: bool
    count: int
    message: str


@dataclass(frozen=True)
class _Row:
    """One line of a file as the check sees it."""

    number: int  # the line number in the file
    body: str  # the canonical form it states (the line without its hash)
    stated: str | None  # the hash it states, None when it states none
    complete: bool  # False for a last line cut short (no line end)
    label: str | None = None  # what the line is, when it is not a record or the manifest


class _Lines:
    """A file's lines, remembering whether the last one read ended with a line end."""

    def __init__(self, file: TextIO) -> None:
        self.file = file
        self.complete = True

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self.file)
        self.complete = line.endswith("\n")
        return line


def verify(path: Path) -> Verdict:
    """Checks a JSON Lines or CSV audit file; names the first record that is not intact.

    Bytes that are not UTF-8 are kept as they are (surrogate escapes), so such a line is
    checked, and named, like any other changed line: its hash cannot match."""
    with path.open(encoding="utf-8", errors="surrogateescape", newline="") as file:
        first = file.readline()
        file.seek(0)
        lines = _Lines(file)
        if first.startswith("seq,"):
            return _check(_csv_records(lines))
        return _check(_jsonl_records(lines))


def _jsonl_records(lines: _Lines) -> Iterator[_Row]:
    for number, line in enumerate(lines, start=1):
        text = line.removesuffix("\n")
        match = _HASH_TAIL.search(text)
        if match is None:
            yield _Row(number, text, None, lines.complete)
        else:
            yield _Row(number, text[: match.start()] + "}", match.group(1), lines.complete)


def _csv_records(lines: _Lines) -> Iterator[_Row]:
    reader = csv.reader(lines)
    fields: tuple[str, ...] = FIELDS  # the header's: with or without the tree fields
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:  # e.g. a quoted field the file ends inside
            yield _Row(reader.line_num, "", None, lines.complete)
            return
        number = reader.line_num
        if number == 1:
            fields = tuple(row[:-1])
            if fields not in (FIELDS, CHAIN_FIELDS) or row[-1:] != ["hash"]:
                fields = FIELDS
                yield _Row(number, ",".join(row), None, lines.complete, "the header")
        elif row and row[0] == "manifest" and len(row) == 3:
            yield _Row(number, row[1], row[2], lines.complete)
        elif len(row) == len(fields) + 1:
            yield _Row(number, _csv_canonical(fields, row[:-1]), row[-1], lines.complete)
        else:
            yield _Row(number, ",".join(row), None, lines.complete)


def _csv_canonical(fields: tuple[str, ...], values: list[str]) -> str:
    """A row's canonical form, rebuilt from its columns: numbers as numbers, the payload and
    the proof as the JSON text they are (so a payload re-spaced or re-escaped no longer matches
    its hash, and a number written another way, such as ``07``, stays text and does not
    either)."""
    members: list[str] = []
    for name, value in zip(fields, values, strict=True):
        if name in _JSON_FIELDS:
            members.append(f'"{name}":{value}')
        else:
            plain = _exact_int(value) if name in _INT_FIELDS else value
            members.append(canonical({name: plain})[1:-1])
    return "{" + ",".join(members) + "}"


def _exact_int(value: str) -> int | str:
    try:
        number = int(value)
    except ValueError:
        return value
    return number if str(number) == value else value


def _digest(text: str) -> str | None:
    """The SHA-256 of the bytes the text was read from (None when it cannot be one)."""
    try:
        return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
    except UnicodeEncodeError:
        return None


def _check(rows: Iterable[_Row]) -> Verdict:
    prev, count, last_line = GENESIS, 0, 0
    verdict: Verdict | None = None
    for row in rows:
        if verdict is not None:
            return Verdict(False, count, f"line {row.number}: data after the manifest")
        last_line = row.number
        problem = _record_problem(row, prev, count)
        if problem is not None:
            return Verdict(False, count, problem)
        if _is_manifest(row.body):
            record = json.loads(row.body)
            verdict = _check_manifest(record["manifest"], count, prev, f"line {row.number}")
            if not verdict.ok:
                return verdict
            continue
        prev, count = str(row.stated), count + 1
    if verdict is not None:
        return verdict
    where = f"after line {last_line} (record {count})" if last_line else "before any record"
    return Verdict(False, count, f"the file ends {where} with no manifest: it was truncated")


def _record_problem(row: _Row, prev: str, count: int) -> str | None:
    """Why a line breaks the chain, or None when it is intact and in its place."""
    where = f"line {row.number}"
    is_manifest = _is_manifest(row.body)
    what = row.label or ("the manifest" if is_manifest else f"record {count + 1}")
    if row.stated is None or _digest(row.body) != row.stated:
        if not row.complete:
            return f"{where} ({what}) is cut short: the file was truncated"
        return f"{where} ({what}) was changed" + ("" if row.label else _NO_MATCH)
    try:
        record = json.loads(row.body)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        return f"{where} ({what}) is not a JSON record"
    if is_manifest:
        if record.get("prev") == prev:
            return None
        return (
            f"{where} (the manifest) does not follow record {count}: "
            "a record before it was removed or replaced"
        )
    return _place_problem(where, record, prev, count)


_NO_MATCH = ": its hash does not match"


def _place_problem(where: str, record: dict[str, Any], prev: str, count: int) -> str | None:
    """Why an intact record is out of place: not the next in sequence, or not chained."""
    seq = record.get("seq")
    if seq != count + 1 or isinstance(seq, bool):
        if isinstance(seq, int) and seq <= count:
            return f"{where} holds record {seq} again: a record was inserted or reordered"
        return f"{where} holds record {seq} where record {count + 1} belongs: removed or reordered"
    if record.get("prev") != prev:
        return f"{where}: the chain breaks before record {count + 1} (a record was replaced)"
    return None


def _is_manifest(body: str) -> bool:
    return body.startswith('{"manifest":')


def _check_manifest(manifest: Any, count: int, prev: str, where: str) -> Verdict:
    if not isinstance(manifest, dict):
        return Verdict(False, count, f"{where}: the manifest is not a manifest")
    if manifest.get("count") != count:
        return Verdict(
            False,
            count,
            f"{where}: the manifest counts {manifest.get('count')} records, the file holds {count}",
        )
    if manifest.get("final_hash") != prev:
        return Verdict(
            False, count, f"{where}: the manifest's final hash is not record {count}'s hash"
        )
    return Verdict(True, count, f"verified {count} records")


# --- the records in the signed tree ---------------------------------------------------------


def tree_claim(path: Path) -> dict[str, Any] | None:
    """The signed head a chain-verified file's manifest states its records are in; None for a
    file without tree fields (an export from before them)."""
    manifest: Any = None
    for record in _file_records(path, manifest=True):
        manifest = record
    head = manifest.get("head") if isinstance(manifest, dict) else None
    return head if isinstance(head, dict) else None


def proofs_problem(path: Path, size: int, root: bytes) -> str | None:
    """None when every record of a chain-verified file is, by its proof, a leaf of the tree of
    ``size`` leaves whose root is ``root``; else the first that is not. Each record's leaf is
    recomputed from the record itself (``projections.leaf``), its export digest included."""
    for number, record in enumerate(_file_records(path), start=1):
        try:
            leaf = rfc9162.leaf_hash(leaf_of_record(record))
            index = record["tree_index"]
            proof = [bytes.fromhex(node) for node in record["proof"]]
            proven = isinstance(index, int) and rfc9162.verify_inclusion(
                leaf, index, size, proof, root
            )
        except (KeyError, TypeError, ValueError):
            proven = False
        if not proven:
            return (
                f"record {number} (position {record.get('position')}) is not in the signed "
                "tree: its payload or fields differ from the log's"
            )
    return None


def _file_records(path: Path, manifest: bool = False) -> Iterator[dict[str, Any]]:
    """The records of a JSON Lines or CSV file as mappings (the manifest's alone when
    ``manifest``); for a file whose chain verified."""
    with path.open(encoding="utf-8", newline="") as file:
        first = file.readline()
        file.seek(0)
        if not first.startswith("seq,"):
            for line in file:
                record = json.loads(line)
                if ("manifest" in record) == manifest:
                    yield record["manifest"] if manifest else record
            return
        reader = csv.reader(file)
        fields = next(reader)  # the last is the hash
        for row in reader:
            if row[0] == "manifest":
                if manifest:
                    yield json.loads(row[1])["manifest"]
            elif not manifest:
                yield {
                    name: _csv_value(name, value) for name, value in zip(fields, row, strict=True)
                }


def _csv_value(name: str, value: str) -> Any:
    if name in _JSON_FIELDS:
        return json.loads(value)
    return _exact_int(value) if name in _INT_FIELDS else value
