"""A private PostgreSQL cluster for tests that stop, kill or restart the database server.

The shared server (``tests.support.backends``) must never be stopped: other tests use it. A
test that takes PostgreSQL away gets its own cluster instead: ``initdb`` in a temporary
directory (trust authentication, a free loopback port, its own socket directory, fsync off),
started, stopped and restarted with ``pg_ctl``, and removed with everything in it afterwards.

``initdb`` refuses to run as root: as root the server's programs run as the ``postgres`` OS
user (``runuser``), otherwise as the current user. Where no cluster can be made the test is
skipped with the reason, except where PostgreSQL is required (CI), where it fails.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest

from tests.support.backends import postgres_required
from tests.support.server import free_port

WANTED_MAJOR = "15"
SERVER_USER = "postgres"  # the OS user the server runs as when the tests run as root
SUPERUSER = "postgres"  # the database superuser initdb creates
START_TIMEOUT = 60  # seconds pg_ctl waits for a start or a stop
COMMAND_TIMEOUT = 120.0
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    # Speed over durability against a crash of the machine, which no test simulates. Not
    # synchronous_commit = off: that acknowledges commits the server itself has not yet
    # written, and ``pg_ctl stop -m immediate`` (a server crash) would lose them.
    "fsync": "off",
    "full_page_writes": "off",
    "max_connections": "100",
    "shared_buffers": "32MB",
    "log_min_messages": "warning",
}


class PrivatePostgresError(RuntimeError):
    """The cluster could not be made, started or stopped; the message says why."""


def bindir() -> Path:
    """Where ``initdb`` and ``pg_ctl`` are: PostgreSQL 15's Debian directory, else the newest
    one there, else ``pg_config --bindir``, else the PATH."""
    debian = Path("/usr/lib/postgresql")
    wanted = debian / WANTED_MAJOR / "bin"
    if (wanted / "initdb").exists():
        return wanted
    found = sorted(
        (p for p in debian.glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1]
    if shutil.which("pg_config"):
        done = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=False, timeout=30
        )
        candidate = Path(done.stdout.strip())
        if done.returncode == 0 and (candidate / "initdb").exists():
            return candidate
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PrivatePostgresError("no initdb: PostgreSQL's server programs are not installed")


@dataclass
class PrivatePostgres:
    """One cluster: its directory (data, log, socket), its port, how to run its programs."""

    root: Path
    port: int
    programs: Path
    as_server_user: list[str]

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def _run(self, program: str, *args: str) -> str:
        command = [*self.as_server_user, str(self.programs / program), *args]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, check=False, timeout=COMMAND_TIMEOUT
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise PrivatePostgresError(f"{' '.join(command)}: {error}") from None
        if done.returncode != 0:
            raise PrivatePostgresError(
                f"{' '.join(command)} exited with {done.returncode}:\n"
                f"{done.stdout}{done.stderr}{self.log_tail()}"
            )
        return done.stdout

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def initdb(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
            "--encoding=UTF8", "--no-locale", "--no-sync", "--no-instructions",
        )  # fmt: skip
        settings = {
            **SETTINGS,
            "port": str(self.port),
            "unix_socket_directories": f"'{self.root}'",
        }
        conf = "".join(f"{name} = {value}\n" for name, value in settings.items())
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as file:
            file.write("\n# tests.support.private_postgres\n" + conf)

    def use_port(self, port: int) -> None:
        """Listens on ``port`` from its next start (the last setting in the file wins)."""
        self.port = port
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as file:
            file.write(f"port = {port}\n")

    def start(self) -> None:
        """Started and accepting connections (``pg_ctl start -w``)."""
        self._run(
            "pg_ctl", "start", "-w", "-t", str(START_TIMEOUT), "-D", str(self.data),
            "-l", str(self.log),
        )  # fmt: skip
        self._wait_accepting()

    def stop(self, mode: str = "fast") -> None:
        """Stopped: ``fast`` (sessions ended, a clean shutdown) or ``immediate`` (no
        shutdown checkpoint: the next start recovers from the WAL, as after a crash)."""
        if mode not in ("smart", "fast", "immediate"):
            raise ValueError(mode)
        self._run("pg_ctl", "stop", "-w", "-t", str(START_TIMEOUT), "-D", str(self.data),
                  "-m", mode)  # fmt: skip

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def running(self) -> bool:
        command = [*self.as_server_user, str(self.programs / "pg_ctl"), "status", "-D",
                   str(self.data)]  # fmt: skip
        done = subprocess.run(command, capture_output=True, check=False, timeout=COMMAND_TIMEOUT)
        return done.returncode == 0

    def _wait_accepting(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.url(), connect_timeout=3) as conn:
                    conn.execute("select 1")
                return
            except psycopg.Error as error:
                if time.monotonic() > deadline:
                    raise PrivatePostgresError(
                        f"not accepting connections within {timeout} s: {error}\n{self.log_tail()}"
                    ) from None
                time.sleep(0.1)

    def create_database(self, name: str | None = None) -> str:
        """A new, empty database; its URL."""
        name = name or f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def remove(self) -> None:
        """Stopped at once (whatever it was doing) and its directory deleted."""
        try:
            if self.data.exists() and self.running():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _server_user() -> tuple[list[str], int | None]:
    """How to run the server's programs, and the uid that must own the cluster's files."""
    if os.geteuid() != 0:
        return [], None
    try:
        account = pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PrivatePostgresError(
            f"running as root and there is no {SERVER_USER!r} OS user to run initdb as"
        ) from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PrivatePostgresError("running as root and there is no runuser")
    return [runuser, "-u", SERVER_USER, "--"], account.pw_uid


def create_cluster() -> PrivatePostgres:
    """A new cluster, initialised and started; raises ``PrivatePostgresError`` if it cannot be."""
    programs = bindir()
    prefix, uid = _server_user()
    root = Path(tempfile.mkdtemp(prefix="fengqiao-pg-"))
    cluster = PrivatePostgres(root, free_port(), programs, prefix)
    try:
        if uid is not None:
            os.chown(root, uid, -1)
        cluster.initdb()
        try:
            cluster.start()
        except PrivatePostgresError:
            # the port may have been taken since it was found free: once more on another
            if cluster.running():
                cluster.stop("immediate")
            cluster.use_port(free_port())
            cluster.start()
    except BaseException:
        cluster.remove()
        raise
    return cluster


def unavailable(reason: str) -> NoReturn:
    """Skipped with the reason, or failed where PostgreSQL is required (CI)."""
    message = f"cannot run a private PostgreSQL cluster: {reason}"
    if postgres_required():
        pytest.fail(message + " (required in CI)")
    pytest.skip(message)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A started private cluster for the block; removed afterwards, running or not."""
    try:
        cluster = create_cluster()
    except (PrivatePostgresError, OSError, psycopg.Error) as error:
        unavailable(str(error))
    try:
        yield cluster
    finally:
        cluster.remove()
