"""Runs long-running components under one signal handler.

A component has `name`, `setup()`, `run()` (blocks until stopped) and `stop()`. The supervisor
sets every component up in order, runs each in a thread, and on SIGINT/SIGTERM, or when any
component fails, stops them all in reverse order.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Protocol

log = logging.getLogger(__name__)


class Component(Protocol):
    name: str

    def setup(self) -> None: ...

    def run(self) -> None: ...

    def stop(self) -> None: ...


class Supervisor:
    def __init__(self, components: list[Component]):
        self._components = components
        self._done = threading.Event()
        self._failed: list[str] = []

    def run(self) -> int:
        """Returns 0 after a clean shutdown, 1 if a component failed."""
        for component in self._components:
            component.setup()
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        threads = [threading.Thread(target=self._run, args=(c,), name=c.name, daemon=True) for c in self._components]
        for t in threads:
            t.start()
        self._done.wait()
        for component in reversed(self._components):
            component.stop()
        for t in threads:
            t.join(timeout=15)
        return 1 if self._failed else 0

    def _run(self, component: Component) -> None:
        try:
            component.run()
        except Exception:
            log.exception("component failed", extra={"component": component.name})
            self._failed.append(component.name)
        finally:
            self._done.set()

    def _on_signal(self, signum: int, _frame: object) -> None:
        log.info("shutting down", extra={"signal": signal.Signals(signum).name})
        self._done.set()
