"""``serve --workers N``: uvicorn's process supervisor, made to stop all its workers at once and leave none behind.

uvicorn's supervisor (``uvicorn.supervisors.Multiprocess``) starts the workers, checks that each
answers, and replaces one that dies. Two things about it matter to a token server behind a load
balancer, and this subclass changes them:

* On SIGTERM (or SIGINT) it told its workers to stop only at its next check, up to half a second
  later, and it kept its own copy of the listening socket open until every worker had finished its
  requests: all that time the kernel went on accepting connections that no worker would ever answer.
  Here the signal handler closes that socket and signals every worker at once; each worker closes its
  own copy at its next tick (0.1 s), so a connection attempted during the drain is refused, and the
  load balancer retries it elsewhere.
* A supervisor killed outright (SIGKILL, the OOM killer) left its workers running, orphaned. Here
  each worker checks every second that its supervisor lives, and stops as on SIGTERM when it does not.

* On SIGHUP it replaced every worker (uvicorn's restart). Here it passes the signal on to each worker,
  which re-reads its App Certificate file without stopping (``certificate``): no connection is dropped
  and no worker restarts. SIGHUP stays blocked in the supervisor (a thread waits for it) and so in each
  worker it starts, until the worker's app has its handler: a SIGHUP during a worker's start is held,
  not fatal (its default action ends a process).

uvicorn's health check (a worker must answer within 5 s) is left as it is. A signal may come while the
supervisor is checking its workers; it then finishes that round, and a worker that exits in the middle
of it holds the supervisor up to those 5 s more (not the workers, which have stopped accepting).
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import multiprocessing
import os
import signal
import socket
import threading
from typing import Any, Optional

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess

log = logging.getLogger("uvicorn.error")

#: The signals that stop the server (SIGBREAK is Windows' Ctrl+Break).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGBREAK") if hasattr(signal, name))
#: How often a worker checks that its supervisor is alive.
PARENT_CHECK_SECONDS = 1.0
#: uvicorn's exit status for a worker that could not start (its app, or its socket, is broken).
STARTUP_FAILURE = 3


def hold_hangups() -> None:
    """Block SIGHUP in this thread, and so in every process it starts, until ``certificate``'s handler takes it."""
    if hasattr(signal, "SIGHUP") and hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})


async def stop_if_orphaned() -> None:
    """A worker's periodic check (uvicorn's ``callback_notify``): stop as on SIGTERM once the supervisor is gone."""
    parent = multiprocessing.parent_process()
    if parent is not None and not parent.is_alive():
        log.warning("the supervisor [%s] is gone: stopping this worker [%s]", parent.pid, os.getpid())
        signal.raise_signal(signal.SIGTERM)  # uvicorn's own handler: a graceful stop


def worker_options() -> dict[str, Any]:
    """The ``uvicorn.Config`` options that give each worker the supervisor check."""
    return {"callback_notify": stop_if_orphaned, "timeout_notify": PARENT_CHECK_SECONDS}


class Supervisor(Multiprocess):
    """``Multiprocess`` that stops every worker, and stops accepting, the moment it is told to stop."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        if "target" in inspect.signature(Multiprocess.__init__).parameters:  # older uvicorn takes the run function
            older: dict[str, Any] = {"target": uvicorn.Server(config).run}
            super().__init__(config, sockets=sockets, **older)
        else:
            super().__init__(config, sockets=sockets)
        self._signalled: set[Optional[int]] = set()
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._stop_now)
        if hasattr(signal, "SIGHUP") and hasattr(signal, "pthread_sigmask"):
            hold_hangups()
            threading.Thread(target=self._wait_for_hangups, name="agora-token-sighup", daemon=True).start()

    def _wait_for_hangups(self) -> None:
        while True:
            signal.sigwait({signal.SIGHUP})
            self._pass_hangup_on()

    def _pass_hangup_on(self) -> None:
        log.info("Received SIGHUP: every worker re-reads its App Certificate file")
        for process in list(self.processes):
            pid = process.pid
            if pid is not None and pid not in self._signalled:
                with contextlib.suppress(OSError):  # it has just exited: its replacement reads the file anew
                    os.kill(pid, signal.SIGHUP)

    def _stop_now(self, signum: int, frame: Any) -> None:
        if not self.should_exit.is_set():
            log.info("Received %s: refusing new connections, stopping every worker", signal.Signals(signum).name)
        for sock in self.sockets:
            sock.close()  # the workers close their copies as they stop: then the port refuses connections
        self.should_exit.set()
        self.terminate_all()

    def terminate_all(self) -> None:
        """SIGTERM to every worker not yet told. Only the signal: the health-check pipes stay open, as the
        supervisor's loop may be using them this very moment (a closed one would pass for a hung worker)."""
        for process in list(self.processes):
            pid = process.pid
            if pid is None or pid in self._signalled:
                continue
            self._signalled.add(pid)
            try:
                if os.name == "nt":  # no SIGTERM there: uvicorn's workers turn Ctrl+Break into one
                    os.kill(pid, signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined]
                else:
                    os.kill(pid, signal.SIGTERM)
            except OSError:  # it has exited already
                pass

    @property
    def failed_to_start(self) -> bool:
        """Whether a worker exited because it could not start (uvicorn then stops the supervisor)."""
        return any(getattr(process, "exitcode", None) == STARTUP_FAILURE for process in self.processes)
