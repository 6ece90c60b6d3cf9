"""A child process kept alive: ``serve --workers N`` runs the views and the deadline sweeps in
one ``fengqiao scheduler`` process beside the API workers, and nothing else would notice if it
died (every command would wait for views that never move, and deadlines would go unswept).

``Supervised`` starts it, watches it from a thread, and starts it again when it exits, waiting
longer after each exit that comes soon after a start so a process that cannot start does not spin.
Each exit is reported to ``on_exit`` first (``serve`` marks the process down, so ``/ready`` in
every worker answers 503 until it runs again).
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
FIRST_BACKOFF = 1.0  # seconds before a restart; doubles while the child keeps dying young
MAX_BACKOFF = 30.0
HEALTHY_AFTER = 60.0  # a child that ran this long counts as healthy: the back-off resets
STOP_TIMEOUT = 10.0


class Supervised:
    """``command`` as a child process, restarted whenever it exits until ``stop()``."""

    def __init__(
        self, command: Sequence[str], on_exit: Callable[[int], None] | None = None
    ) -> None:
        self.command = list(command)
        self.on_exit = on_exit
        self.restarts = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="supervisor", daemon=True)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        self._process = subprocess.Popen(self.command)
        self._thread.start()

    def _watch(self) -> None:
        backoff = FIRST_BACKOFF
        started = time.monotonic()
        while not self._stopping.wait(POLL_SECONDS):
            process = self._process
            if process is None or process.poll() is None:
                continue
            ran = time.monotonic() - started
            backoff = FIRST_BACKOFF if ran >= HEALTHY_AFTER else backoff
            log.error(
                "%s exited with %s after %.0f s; restarting in %.0f s",
                " ".join(self.command), process.returncode, ran, backoff,
            )  # fmt: skip
            self._report_exit(process.returncode)
            if self._stopping.wait(backoff):
                return
            self._process = subprocess.Popen(self.command)
            self.restarts += 1
            started = time.monotonic()
            backoff = min(backoff * 2, MAX_BACKOFF)

    def _report_exit(self, returncode: int) -> None:
        if self.on_exit is None:
            return
        try:
            self.on_exit(returncode)
        except Exception:  # the store may be down too: keep supervising regardless
            log.exception("could not report the exit of %s", " ".join(self.command))

    def stop(self) -> None:
        """Stops watching, then asks the child to stop (SIGTERM; killed if it will not)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(STOP_TIMEOUT)
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)
