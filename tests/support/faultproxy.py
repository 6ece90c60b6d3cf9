"""A TCP proxy in front of PostgreSQL that drops a connection at a chosen moment of the next
transaction that writes events: the faults a network (or a crashing server) can cause around a
commit, injected on the wire, beneath the driver and the event store's own retries.

It reads just enough of the PostgreSQL protocol (v3) to frame messages both ways: the client's
untyped startup packet (an SSLRequest or GSSENCRequest before it is answered ``N`` here, so the
stream stays plain), then one type byte and a four-byte length per message. What it has seen
on the wire between psycopg 3 and PostgreSQL when the eventsourcing recorder saves events
(pipeline mode, so everything in the extended protocol):

* client: ``BEGIN``, ``SET LOCAL lock_timeout``, ``LOCK TABLE <schema>.<app>_events IN EXCLUSIVE
  MODE``, ``NOTIFY``, then one ``INSERT INTO <schema>.<app>_events AS t (…) SELECT … FROM
  unnest(%s)`` for all the events of the transaction; each statement as Parse ``P`` (its
  text), Bind ``B``, Describe, Execute, and then one Sync ``S``. Once psycopg has prepared a
  statement on a connection (after a few uses) it sends only a Bind naming it, so the texts are
  remembered per connection by name and a statement is looked at when it is bound;
* server: ParseComplete, BindComplete, CommandComplete ``C`` (``SET``, ``LOCK TABLE``,
  ``NOTIFY``), then for the insert RowDescription ``T``, a DataRow ``D`` per event (its
  notification id) and ``C`` ``INSERT 0 <n>``, then ReadyForQuery ``Z`` (``T``: in a transaction);
* client: ``COMMIT`` as Parse/Bind/Describe/Execute/Sync; server: ``C`` ``COMMIT``, ``Z`` ``I``.
  Outside a pipeline (the read models) BEGIN and COMMIT are simple Queries ``Q``.

A fault is armed with ``arm``; the first connection that then sends an events insert claims it
(other connections, such as the read models' own writes, pass untouched) and it fires once,
at its moment, on that connection:

``AFTER_COMMIT``
    ``COMMIT`` reaches the server; its CommandComplete is not passed on and both sockets are
    closed: the events are stored, the client never learns it.
``BEFORE_COMMIT``
    Both sockets are closed when the client runs ``COMMIT`` (its Bind, or its Query), which
    is not forwarded: the server never commits and rolls the transaction back.
``MID_RESPONSE``
    Both sockets are closed in the middle of the server's answer to the insert (half of its
    first DataRow or CommandComplete is passed on): the transaction is open, so rolled back.
``MID_COMMIT_RESPONSE``
    As ``AFTER_COMMIT``, but half of the CommandComplete ``COMMIT`` is passed on first.

Afterwards the proxy forwards everything as it is, new connections included.
"""

from __future__ import annotations

import contextlib
import re
import socket
import struct
import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from typing import Self

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
HEADER = 5  # a type byte and a four-byte length that counts itself but not the type byte

COMMIT = re.compile(rb"^\s*(COMMIT|END)\b", re.IGNORECASE)
ROLLBACK = re.compile(rb"^\s*(ROLLBACK|ABORT)\b", re.IGNORECASE)


class Fault(StrEnum):
    AFTER_COMMIT = "after_commit"
    BEFORE_COMMIT = "before_commit"
    MID_RESPONSE = "mid_response"
    MID_COMMIT_RESPONSE = "mid_commit_response"


def events_insert(table_suffix: str = "_events") -> re.Pattern[bytes]:
    """Statements that write events: ``INSERT INTO`` a table whose name ends ``_events``
    (the eventsourcing recorder's ``<application>_events``), quoted or not, schema or not."""
    name = re.escape(table_suffix.encode())
    return re.compile(rb'\bINSERT\s+INTO\s+(?:"?\w+"?\.)?"?\w*' + name + rb'"?[\s(]', re.I)


@dataclass
class Stats:
    """What the proxy has done so far (a snapshot: see ``FaultProxy.stats``)."""

    connections: int = 0
    events_inserts: int = 0  # executions (Bind or Query) of statements that write events
    commits: int = 0  # COMMITs the clients sent
    fired: Counter[Fault] = field(default_factory=Counter)


class _Connection:
    """One client connection and its server connection, pumped by two threads."""

    def __init__(self, proxy: FaultProxy, client: socket.socket, server: socket.socket) -> None:
        self.proxy = proxy
        self.client = client
        self.server = server
        self.statements: dict[bytes, bytes] = {}  # prepared statement name -> its text
        self.fault: Fault | None = None  # claimed by this connection, not yet fired
        self.commit_sent = False
        self.closed = threading.Event()

    def close(self) -> None:
        self.closed.set()
        for sock in (self.client, self.server):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    # --- client to server ------------------------------------------------------------------

    def from_client(self) -> None:
        try:
            if not self._startup():
                return
            buffer = b""
            while not self.closed.is_set():
                chunk = self.client.recv(65536)
                if not chunk:
                    break
                buffer += chunk
                forward, buffer, cut = self._client_messages(buffer)
                if forward:
                    self.server.sendall(forward)
                if cut:
                    return
        except OSError:
            pass
        finally:
            self.close()

    def _startup(self) -> bool:
        """Passes the startup packet on, answering SSL and GSS encryption requests ``N``."""
        while True:
            head = _recv_exactly(self.client, 8)
            if head is None:
                return False
            length, code = struct.unpack("!II", head)
            rest = _recv_exactly(self.client, length - 8)
            if rest is None:
                return False
            if code in (SSL_REQUEST, GSSENC_REQUEST):
                self.client.sendall(b"N")
                continue
            self.server.sendall(head + rest)  # a CancelRequest too: the server then closes
            return True

    def _client_messages(self, buffer: bytes) -> tuple[bytes, bytes, bool]:
        """(bytes to forward, bytes left for later, whether the connection was cut)."""
        forward = bytearray()
        for start, end in _frames(buffer):
            kind, body = buffer[start : start + 1], buffer[start + HEADER : end]
            if self._client_message(kind, body):
                self.proxy._fire(self, Fault.BEFORE_COMMIT)
                if forward:
                    self.server.sendall(bytes(forward))
                self.close()
                return b"", b"", True
            forward += buffer[start:end]
        return bytes(forward), buffer[len(forward) :], False

    def _client_message(self, kind: bytes, body: bytes) -> bool:
        """Notes what the client says; True to cut the connection before this message.

        A statement runs when it is bound (extended protocol: Parse names its text, every
        execution binds it) or sent as a simple Query; that is when it is looked at."""
        if kind == b"P":
            name, _, rest = body.partition(b"\0")
            self.statements[name] = rest.partition(b"\0")[0]
            return False
        if kind == b"Q":
            text = body.rstrip(b"\0")
        elif kind == b"B":
            _portal, _, rest = body.partition(b"\0")
            text = self.statements.get(rest.partition(b"\0")[0], b"")
        else:
            return False
        self.proxy._trace("C>S", kind, text)
        if self.proxy.writes_events.search(text):
            self.proxy._saw_events_insert(self)
        elif COMMIT.match(text):
            self.proxy._count_commit()
            if self.fault is Fault.BEFORE_COMMIT:
                return True
            self.commit_sent = True
        elif ROLLBACK.match(text) and self.fault is not None:
            self.proxy._give_back(self)  # the transaction failed by itself: not this one
        return False

    # --- server to client ------------------------------------------------------------------

    def from_server(self) -> None:
        try:
            buffer = b""
            while not self.closed.is_set():
                chunk = self.server.recv(65536)
                if not chunk:
                    break
                buffer += chunk
                forward = bytearray()
                cut_at: int | None = None
                for start, end in _frames(buffer):
                    if self._cuts_here(buffer[start : start + 1], buffer[start + HEADER : end]):
                        cut_at = start + (end - start) // 2 if self._halves() else start
                        break
                    forward += buffer[start:end]
                if cut_at is not None:
                    assert self.fault is not None
                    fault = self.fault
                    self.client.sendall(buffer[:cut_at])
                    self.proxy._fire(self, fault)
                    self.close()
                    return
                if forward:
                    self.client.sendall(bytes(forward))
                buffer = buffer[len(forward) :]
        except OSError:
            pass
        finally:
            self.close()

    def _halves(self) -> bool:
        return self.fault in (Fault.MID_RESPONSE, Fault.MID_COMMIT_RESPONSE)

    def _cuts_here(self, kind: bytes, body: bytes) -> bool:
        if kind == b"C":
            self.proxy._trace("S>C", kind, body.rstrip(b"\0"))
        elif kind == b"E":
            self.proxy._trace("S>C", kind, body.replace(b"\0", b" ")[:200])
        if self.fault is None:
            return False
        if self.fault is Fault.MID_RESPONSE:
            return kind == b"D" or (kind == b"C" and body.startswith(b"INSERT"))
        if self.fault in (Fault.AFTER_COMMIT, Fault.MID_COMMIT_RESPONSE):
            return self.commit_sent and kind == b"C" and body.startswith(b"COMMIT")
        return False


class FaultProxy:
    """A loopback TCP proxy to PostgreSQL at ``upstream`` that can drop one events-writing
    transaction's connection at an armed moment (see the module's docstring).

    >>> with FaultProxy(("127.0.0.1", 5432)) as proxy:  # doctest: +SKIP
    ...     proxy.arm(Fault.AFTER_COMMIT)
    ...     ...  # connect to 127.0.0.1:proxy.port and write events
    ...     assert proxy.wait_fired(5)
    """

    def __init__(
        self,
        upstream: tuple[str, int] = ("127.0.0.1", 5432),
        writes_events: re.Pattern[bytes] | None = None,
        trace_size: int = 2000,
    ) -> None:
        self.upstream = upstream
        self.writes_events = writes_events or events_insert()
        self.wire: deque[str] = deque(maxlen=trace_size)  # what was seen, for a failure's report
        self._lock = threading.Lock()
        self._armed: Fault | None = None
        self._fired = threading.Event()
        self._stats = Stats()
        self._connections: set[_Connection] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept, name="faultproxy", daemon=True)
        self._stopping = threading.Event()

    # --- the test's side -------------------------------------------------------------------

    def start(self) -> Self:
        self._acceptor.start()
        return self

    def stop(self) -> None:
        """Stops accepting and closes every connection (both sides)."""
        self._stopping.set()
        with contextlib.suppress(OSError):  # closing a socket does not wake an accept()
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        self._acceptor.join(5)
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            open_now = list(self._connections)
        for connection in open_now:
            connection.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def arm(self, fault: Fault) -> None:
        """The next transaction that writes events gets ``fault`` (once)."""
        with self._lock:
            self._armed = fault
            self._fired.clear()

    def disarm(self) -> Fault | None:
        """Takes back a fault not claimed yet (one claimed by a connection still fires);
        the fault that was armed, if any."""
        with self._lock:
            fault, self._armed = self._armed, None
            return fault

    @property
    def armed(self) -> Fault | None:
        return self._armed

    def wait_fired(self, timeout: float) -> bool:
        """Whether the armed fault fired (waiting up to ``timeout`` seconds)."""
        return self._fired.wait(timeout)

    def stats(self) -> Stats:
        with self._lock:
            return Stats(
                self._stats.connections,
                self._stats.events_inserts,
                self._stats.commits,
                Counter(self._stats.fired),
            )

    def trace(self, last: int = 60) -> str:
        """The last messages seen (statement texts, command tags, errors), one a line."""
        with self._lock:
            return "\n".join(list(self.wire)[-last:])

    # --- the connections' side -------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._stopping.is_set():  # stop()'s wake-up call
                client.close()
                return
            try:
                server = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection = _Connection(self, client, server)
            with self._lock:
                self._connections.add(connection)
                self._stats.connections += 1
            for pump in (connection.from_client, connection.from_server):
                threading.Thread(target=self._run, args=(connection, pump), daemon=True).start()

    def _run(self, connection: _Connection, pump: Callable[[], None]) -> None:
        try:
            pump()
        finally:
            if connection.closed.is_set():
                with self._lock:
                    self._connections.discard(connection)

    def _saw_events_insert(self, connection: _Connection) -> None:
        with self._lock:
            self._stats.events_inserts += 1
            if self._armed is not None and connection.fault is None:
                connection.fault, self._armed = self._armed, None
                connection.commit_sent = False
                self.wire.append(f"-- {connection.fault} claimed by this connection")

    def _give_back(self, connection: _Connection) -> None:
        with self._lock:
            if connection.fault is not None and self._armed is None:
                self._armed = connection.fault
            connection.fault = None

    def _count_commit(self) -> None:
        with self._lock:
            self._stats.commits += 1

    def _fire(self, connection: _Connection, fault: Fault) -> None:
        with self._lock:
            connection.fault = None
            self._stats.fired[fault] += 1
            self.wire.append(f"-- {fault} fired")
        self._fired.set()

    def _trace(self, direction: str, kind: bytes, text: bytes) -> None:
        line = f"{direction} {kind.decode()} {text[:160].decode(errors='replace')}"
        with self._lock:
            self.wire.append(line)


def _frames(buffer: bytes) -> list[tuple[int, int]]:
    """(start, end) of each complete typed message at the start of ``buffer``."""
    frames = []
    start = 0
    while len(buffer) - start >= HEADER:
        (length,) = struct.unpack_from("!I", buffer, start + 1)
        end = start + 1 + length
        if end > len(buffer):
            break
        frames.append((start, end))
        start = end
    return frames


def _recv_exactly(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data
