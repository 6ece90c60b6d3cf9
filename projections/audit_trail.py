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

GENESIS = "0" * 64
FIELDS = (
    "seq", "position", "case_id", "case_version", "event_type", "at_utc", "at_local",
    "actor", "role", "unit", "payload", "prev",
)  # fmt: skip
_INT_FIELDS = {"seq", "position", "case_version"}
_HASH_TAIL = re.compile(r',"hash":"([0-9a-f]{64})"\}$')


def canonical(record: dict[str, Any]) -> str:
    """Compact JSON, keys in the record's own order (payloads are key-sorted when built)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ChainWriter:
    """Writes records, chaining each to the one before; ``finish`` writes the manifest."""

    def __init__(self, out: TextIO, form: str = "jsonl") -> None:
        if form not in ("jsonl", "csv"):
            raise ValueError("format must be jsonl or csv")
        self.out = out
        self.form = form
        self.prev = GENESIS
        self.count = 0
        self.first_position: int | None = None
        self.last_position: int | None = None
        self._csv = csv.writer(out, lineterminator="\n") if form == "csv" else None
        if self._csv is not None:
            self._csv.writerow([*FIELDS, "hash"])

    def write(self, record: dict[str, Any]) -> None:
        self.count += 1
        body = {"seq": self.count, **record, "prev": self.prev}
        ordered = {name: body[name] for name in FIELDS}
        digest = sha256(canonical(ordered))
        if self._csv is not None:
            row = [canonical(v) if name == "payload" else v for name, v in ordered.items()]
            self._csv.writerow([*row, digest])
        else:
            self.out.write(canonical({**ordered, "hash": digest}) + "\n")
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


def verify(path: Path) -> Verdict:
    """Checks a JSON Lines or CSV audit file; names the first record that is not intact."""
    try:
        with path.open(encoding="utf-8", newline="") as file:
            first = file.readline()
            file.seek(0)
            rows = _csv_records(file) if first.startswith("seq,") else _jsonl_records(file)
            return _check(rows)
    except UnicodeDecodeError:
        return Verdict(False, 0, "the file is not UTF-8 text: it was altered")


def _jsonl_records(lines: Iterable[str]) -> Iterator[tuple[int, str, str | None]]:
    """(line number, canonical form, stated hash) per line."""
    for number, line in enumerate(lines, start=1):
        text = line.rstrip("\n")
        match = _HASH_TAIL.search(text)
        if match is None:
            yield number, text, None
        else:
            yield number, text[: match.start()] + "}", match.group(1)


def _csv_records(file: TextIO) -> Iterator[tuple[int, str, str | None]]:
    reader = csv.reader(file)
    next(reader, None)
    for number, row in enumerate(reader, start=2):
        if row and row[0] == "manifest" and len(row) == 3:
            yield number, row[1], row[2]
        elif len(row) == len(FIELDS) + 1:
            yield number, _csv_canonical(row[:-1]), row[-1]
        else:
            yield number, ",".join(row), None


def _csv_canonical(values: list[str]) -> str:
    record: dict[str, Any] = {}
    for name, value in zip(FIELDS, values, strict=True):
        if name in _INT_FIELDS:
            record[name] = int(value) if value.lstrip("-").isdigit() else value
        elif name == "payload":
            try:
                record[name] = json.loads(value)
            except ValueError:
                record[name] = value
        else:
            record[name] = value
    return canonical(record)


def _check(rows: Iterable[tuple[int, str, str | None]]) -> Verdict:
    prev, count = GENESIS, 0
    verdict: Verdict | None = None
    for number, body, stated in rows:
        if verdict is not None:
            return Verdict(False, count, f"line {number}: data after the manifest")
        problem = _record_problem(number, body, stated, prev, count)
        if problem is not None:
            return Verdict(False, count, problem)
        record = json.loads(body)
        if "manifest" in record:
            verdict = _check_manifest(record["manifest"], count, prev, f"line {number}")
            if not verdict.ok:
                return verdict
            continue
        prev, count = str(stated), count + 1
    return verdict or Verdict(
        False, count, f"the file was truncated after record {count}: no manifest"
    )


def _record_problem(
    number: int, body: str, stated: str | None, prev: str, count: int
) -> str | None:
    """Why line ``number`` breaks the chain, or None when it is intact and in its place."""
    where = f"line {number}"
    if stated is None or sha256(body) != stated:
        return f"{where} (record {count + 1}) was changed: its hash does not match"
    try:
        record = json.loads(body)
    except ValueError:
        return f"{where} is not valid JSON"
    seq = record.get("seq")
    if "manifest" not in record and seq != count + 1:
        if isinstance(seq, int) and seq <= count:
            return f"{where} holds record {seq} again: a record was inserted or reordered"
        return f"{where} holds record {seq} where record {count + 1} belongs: removed or reordered"
    if record.get("prev") != prev:
        return f"{where}: the chain breaks before record {count + 1} (a record was replaced)"
    return None


def _check_manifest(manifest: dict[str, Any], count: int, prev: str, where: str) -> Verdict:
    if manifest.get("count") != count or manifest.get("final_hash") != prev:
        return Verdict(False, count, f"{where}: the manifest does not match the records before it")
    return Verdict(True, count, f"verified {count} records")
