"""Run the simulators: in a background thread for tests, or in the foreground for ``hub simulate``.

    with SimulatorServer(world) as sim:
        httpx.post(sim.urls["crm"] + "/cgi/corpAccessToken/get/V2", json={...})
        sim.world.data["crm"]["NewOpportunityObj"][0]["amount"] = 5   # seen by the next call
        sim.expire_tokens("crm")                                      # force a refresh
        sim.inject_fault("u8", count=2, code=429)                     # next 2 U8 calls fail
        sim.inject_fault("crm", kind="http", status=429, retry_after=1)  # gateway 429
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from simulators.app import SYSTEMS, create_app
from simulators.common import SimState
from simulators.world import World, as_world

STARTUP_TIMEOUT = 10.0


class SimulatorServer:
    """The combined simulator app served by uvicorn on a background thread.

    ``port=0`` picks a free port. Extra keyword arguments go to :func:`simulators.app.create_app`
    (``token_ttl``, ``message_retention_days``, ``enforce_rate_limits``, ``rate_limits``).
    """

    def __init__(
        self,
        world: World | dict[str, Any] | str | Path,
        host: str = "127.0.0.1",
        port: int = 0,
        **options: Any,
    ) -> None:
        self.world = as_world(world)
        self.host = host
        self.app = create_app(self.world, **options)
        self._sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def urls(self) -> dict[str, str]:
        return {name: f"{self.base_url}/{name}" for name in SYSTEMS}

    @property
    def sims(self) -> dict[str, SimState]:
        """Per-system test hooks: tokens, faults, call counters."""
        return self.app.state.sims

    def set_world(self, world: World | dict[str, Any] | str | Path) -> None:
        """Serve another world from the next request on (issued tokens stay valid)."""
        self.world.replace(as_world(world))

    def expire_tokens(self, system: str | None = None) -> None:
        """Make every token issued so far (by one system, or all) expired."""
        for name in [system] if system else SYSTEMS:
            self.sims[name].expire_tokens()

    def inject_fault(
        self, system: str, count: int = 1, code: Any = None, path: str | None = None,
        **kind: Any,
    ) -> None:
        """Disturb the next ``count`` calls to ``system`` (whose path contains ``path``);
        ``kind``, ``skip``, ``status``, ``retry_after``, ``delay``: see
        :meth:`simulators.common.Faults.inject`."""
        self.sims[system].faults.inject(count, code, path, **kind)

    def start(self) -> SimulatorServer:
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]},
            name=f"simulators:{self.port}", daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"simulator server on {self.base_url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=STARTUP_TIMEOUT)
            self._thread = None
        self._sock.close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_forever(
    world: World | dict[str, Any] | str | Path,
    host: str = "127.0.0.1",
    port: int = 8700,
    **options: Any,
) -> None:
    """Serve the simulators in the foreground until interrupted (``hub simulate``)."""
    uvicorn.run(create_app(world, **options), host=host, port=port, log_level="info")
