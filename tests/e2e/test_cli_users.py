"""``fengqiao user add|disable|enable|list`` and ``fengqiao token`` on the configured store,
SQLite and PostgreSQL: the operator enrols the first admin without a token; a token is minted
only for an active member, in a role they hold, at their unit; the list masks phones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest

from api.cli.main import main
from api.http.auth import ALGORITHM, load_secret
from api.wiring.settings import Settings, new_cipher_key, new_signing_key
from tests.support import backends

TOWNSHIP = "511123001"
PHONE = "13912345678"
ADD = [
    "user", "add", "--id", "zhao-xin", "--name", "赵新", "--unit", TOWNSHIP,
    "--role", "mediator", "--role", "admin", "--phone", PHONE, "--email", "zx@luocheng.example",
]  # fmt: skip


@pytest.fixture(params=("sqlite", "postgres"))
def environ(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A store with the sample jurisdiction and staff (``fengqiao demo --cases 0``)."""
    if request.param == "sqlite":
        found = {"FENGQIAO_DATA_DIR": str(tmp_path / "data")}
        assert main(["demo", "--cases", "0"], environ=found) == 0
        yield found
        return
    with backends.postgres_schema() as schema:
        found = {
            "FENGQIAO_DATABASE_URL": backends.test_database_url() + f"?schema={schema}",
            "FENGQIAO_CIPHER_KEY": new_cipher_key(),
            "FENGQIAO_SIGNING_KEY": new_signing_key(),
            "FENGQIAO_SECRET": "cli-users-secret-0123456789abcdefghijklmnop",
        }
        assert main(["demo", "--cases", "0"], environ=found) == 0
        yield found


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # a table row on one line


def run(
    capsys: pytest.CaptureFixture[str], environ: dict[str, str], *argv: str
) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(list(argv), environ=environ)
    out, err = capsys.readouterr()
    return status, out, err


def token(
    capsys: pytest.CaptureFixture[str], environ: dict[str, str], *argv: str
) -> tuple[int, str]:
    status, out, err = run(capsys, environ, "token", *argv)
    return status, out.strip() if status == 0 else err


def test_the_operator_adds_lists_disables_and_enables_a_member(
    capsys: pytest.CaptureFixture[str], environ: dict[str, str]
) -> None:
    status, out, _ = run(capsys, environ, *ADD)
    assert (status, out.strip()) == (0, f"enrolled zhao-xin at {TOWNSHIP} as mediator, admin")
    status, _, err = run(capsys, environ, *ADD)
    assert status == 2
    assert "zhao-xin" in err
    status, _, err = run(capsys, environ, *ADD[:3], "li-si", *ADD[4:6], "--unit", "999999",
                         "--role", "mediator")  # fmt: skip
    assert status == 2
    assert "999999" in err

    status, out, _ = run(capsys, environ, "user", "list", "--unit", TOWNSHIP)
    assert status == 0
    assert "zhao-xin" in out
    assert "139****5678" in out
    assert PHONE not in out
    assert f"mediator-{TOWNSHIP}-2" in out  # the sample staff, listed too
    assert "mediator-511123002" not in out  # another township's
    status, out, _ = run(capsys, environ, "user", "list", "--unit", TOWNSHIP, "--role", "admin")
    assert "zhao-xin" in out
    assert f"mediator-{TOWNSHIP}-2" not in out

    status, out, _ = run(capsys, environ, "user", "disable", "zhao-xin", "--reason", "调离")
    assert status == 0
    assert "open cases stay assigned" in out
    assert "zhao-xin" not in run(capsys, environ, "user", "list", "--unit", TOWNSHIP)[1]
    listed = run(capsys, environ, "user", "list", "--unit", TOWNSHIP, "--all")[1]
    assert "zhao-xin" in listed
    assert "停用" in listed
    assert run(capsys, environ, "user", "enable", "zhao-xin")[0] == 0
    assert "zhao-xin" in run(capsys, environ, "user", "list", "--unit", TOWNSHIP)[1]

    assert run(capsys, environ, "user", "disable", "nobody-here", "--reason", "x")[0] == 2
    assert run(capsys, environ, "user", "list", "--unit", "999999")[0] == 2


def test_fengqiao_token_is_minted_only_for_an_active_member_in_a_role_they_hold_at_their_unit(
    capsys: pytest.CaptureFixture[str], environ: dict[str, str]
) -> None:
    assert run(capsys, environ, *ADD)[0] == 0
    status, minted = token(
        capsys, environ, "--role", "admin", "--unit", TOWNSHIP, "--user", "zhao-xin"
    )
    assert status == 0
    secret = load_secret(Settings.from_env(environ))
    claims = jwt.decode(minted, secret, algorithms=[ALGORITHM])
    extras = claims["extras"]  # where Litestar's tokens keep their own claims
    assert (claims["sub"], extras["role"], extras["unit"]) == ("zhao-xin", "admin", TOWNSHIP)
    # the sample staff's own ids are ROLE-UNIT: the default user
    assert token(capsys, environ, "--role", "supervisor", "--unit", "511123")[0] == 0

    for argv, said in (
        (("--role", "mediator", "--unit", TOWNSHIP, "--user", "nobody-here"), "不在人员名录中"),
        (("--role", "supervisor", "--unit", TOWNSHIP, "--user", "zhao-xin"), "没有令牌所称的角色"),
        (("--role", "mediator", "--unit", "511123", "--user", "zhao-xin"), "单位不符"),
        (("--role", "admin", "--unit", "511123"), "不在人员名录中"),  # no admin-511123
    ):
        status, err = token(capsys, environ, *argv)
        assert status == 1, argv
        assert said in err, (argv, err)

    assert run(capsys, environ, "user", "disable", "zhao-xin", "--reason", "调离")[0] == 0
    status, err = token(
        capsys, environ, "--role", "admin", "--unit", TOWNSHIP, "--user", "zhao-xin"
    )
    assert status == 1
    assert "已停用" in err
