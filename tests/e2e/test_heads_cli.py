"""``fengqiao audit head|prove|check-consistency|key`` as an auditor runs them, on SQLite and
PostgreSQL: a head saved today is extended by tomorrow's log (exit 0); a store rewritten with
other events of the same count, or rolled back, fails (exit 1); a head signed with another key
or edited fails before the store is asked; proofs printed verify with the RFC 9162 checks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.cli.main import main
from api.wiring.settings import new_cipher_key, new_signing_key
from projections import rfc9162
from tests.support import backends

Environ = dict[str, str]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def environs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Environ, Environ]]:
    """Two stores sharing one signing key: the genuine one and a rewrite of it."""
    key = new_signing_key()
    if request.param == "sqlite":
        yield (
            {"FENGQIAO_DATA_DIR": str(tmp_path / "a"), "FENGQIAO_SIGNING_KEY": key},
            {"FENGQIAO_DATA_DIR": str(tmp_path / "b"), "FENGQIAO_SIGNING_KEY": key},
        )
        return
    with backends.postgres_schema() as first, backends.postgres_schema() as second:
        yield tuple(  # type: ignore[misc]
            {
                "FENGQIAO_DATABASE_URL": f"{backends.test_database_url()}?schema={schema}",
                "FENGQIAO_CIPHER_KEY": new_cipher_key(),
                "FENGQIAO_SIGNING_KEY": key,
            }
            for schema in (first, second)
        )


def run(capsys: pytest.CaptureFixture[str], environ: Environ, *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    status = main(list(argv), environ=environ)
    captured = capsys.readouterr()
    return status, (captured.out + captured.err).strip()


def demo(environ: Environ, cases: int, seed: int = 2026) -> None:
    assert main(["demo", "--cases", str(cases), "--seed", str(seed)], environ=environ) == 0


def saved_head(capsys: pytest.CaptureFixture[str], environ: Environ, out: Path) -> dict[str, Any]:
    status, printed = run(capsys, environ, "audit", "head", "--out", str(out))
    assert status == 0, printed
    head: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    assert json.loads(printed) == head
    return head


def test_a_saved_head_is_extended_by_the_grown_log_and_not_by_a_rewritten_one(
    environs: tuple[Environ, Environ], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    genuine, rewritten = environs
    demo(genuine, 3)
    head = saved_head(capsys, genuine, tmp_path / "head.json")
    status, key = run(capsys, genuine, "audit", "key")
    assert status == 0
    (tmp_path / "key.json").write_text(key, encoding="utf-8")
    check = ("audit", "check-consistency", str(tmp_path / "head.json"))
    keyed = (*check, "--key", str(tmp_path / "key.json"))
    assert run(capsys, genuine, *keyed)[0] == 0, "nothing grew: equal trees"
    demo(genuine, 5, seed=7)  # the log grows
    status, said = run(capsys, genuine, *keyed)
    assert status == 0, said
    assert said.startswith("the log extends the saved head")
    # another store, filled to exactly the head's size with other events
    demo(rewritten, 3, seed=99)
    # pad the rewrite with heads of its own until it has the same count
    while True:
        status, printed = run(capsys, rewritten, "audit", "head")
        if json.loads(printed)["size"] >= head["size"]:
            break
    status, said = run(capsys, rewritten, *keyed)
    assert status == 1, said
    assert "does not extend the saved head" in said


def test_a_rolled_back_store_fails_and_a_forged_head_fails_before_the_store_is_asked(
    environs: tuple[Environ, Environ], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    genuine, other = environs
    demo(genuine, 2)
    head = saved_head(capsys, genuine, tmp_path / "head.json")
    demo(other, 1, seed=5)  # a smaller log: as if rolled back to before the head
    status, said = run(capsys, other, "audit", "check-consistency", str(tmp_path / "head.json"))
    assert status == 1, said
    assert "fewer than" in said
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps({**head, "size": head["size"] - 1}), encoding="utf-8")
    status, said = run(capsys, genuine, "audit", "check-consistency", str(edited))
    assert status == 1
    assert (
        said == "the saved head is not genuine: the head's signature does not verify with this key"
    )
    stranger = new_signing_key()
    status, said = run(
        capsys, {**genuine, "FENGQIAO_SIGNING_KEY": stranger}, "audit", "check-consistency",
        str(tmp_path / "head.json"),
    )  # fmt: skip
    assert status == 1
    assert "not this key" in said
    missing = run(capsys, genuine, "audit", "check-consistency", str(tmp_path / "nothing.json"))
    assert missing[0] == 2


def test_prove_prints_an_inclusion_proof_that_verifies(
    environs: tuple[Environ, Environ], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    genuine, _ = environs
    demo(genuine, 2)
    head = saved_head(capsys, genuine, tmp_path / "head.json")
    size = head["size"]
    for position, chosen in [(1, None), (2, size), (size // 2, size - 1), (size, size)]:
        argv = ["audit", "prove", "--position", str(position)]
        argv += [] if chosen is None else ["--size", str(chosen)]
        status, printed = run(capsys, genuine, *argv)
        assert status == 0, printed
        proof = json.loads(printed)
        path = [bytes.fromhex(node) for node in proof["path"]]
        leaf, root = bytes.fromhex(proof["leaf"]), bytes.fromhex(proof["root"])
        assert rfc9162.verify_inclusion(leaf, proof["index"], proof["size"], path, root)
        if chosen == size:
            assert proof["root"] == head["root"]
            assert proof["head"]["signature"] == head["signature"]
    status, said = run(capsys, genuine, "audit", "prove", "--position", "999999")
    assert status == 2
    assert "no record at position 999999" in said
    status, said = run(capsys, genuine, "audit", "prove", "--position", str(size), "--size", "1")
    assert status == 2
    assert "--size" in said
