"""granian's main process for `kiezgraph serve` (setting `server = "granian"`, the default).

`kiezgraph serve` checks the build, puts the resolved settings into the environment and
replaces itself with `python -m publisher.web.granian_main`. This module imports granian and
nothing of the app, so the main process stays small; its one worker process builds the app
(`publisher.web.server:granian_app`). SIGHUP is passed on to the worker, which checks and
swaps in the new build (granian's own SIGHUP would restart the worker instead, and a bad
build would stop the service).
"""

from __future__ import annotations

import json
import os
import signal

from granian.constants import HTTPModes, Interfaces, Loops
from granian.http import HTTP1Settings
from granian.log import LogLevels
from granian.server import MPServer

__all__ = ["BUFFER_ENV", "SETTINGS_ENV", "main"]

# How `kiezgraph serve` hands its resolved settings and the header buffer size over.
SETTINGS_ENV = "KIEZGRAPH_SERVE_SETTINGS"
BUFFER_ENV = "KIEZGRAPH_SERVE_HEADER_BUFFER"


class _Server(MPServer):
    """granian's server, with SIGHUP handed to the worker instead of restarting it."""

    def signal_handler_reload(self, *args, **kwargs):
        """Ask the worker to reload the build itself: checked first, the old one kept if not."""
        for worker in self.wrks:
            if worker.inner.pid:
                os.kill(worker.inner.pid, signal.SIGHUP)


def main() -> None:
    """Serve with the settings `kiezgraph serve` left in the environment."""
    settings = json.loads(os.environ[SETTINGS_ENV])
    server = _Server(
        "publisher.web.server:granian_app", address=settings["host"], port=settings["port"],
        interface=Interfaces.ASGI, workers=1, loop=Loops.uvloop,
        http=HTTPModes.http1, websockets=False, factory=True,
        http1_settings=HTTP1Settings(
            max_buffer_size=int(os.environ[BUFFER_ENV])),
        log_level=LogLevels(settings["log_level"].lower()), log_access=False,
        respawn_failed_workers=True,  # a worker that dies (say, out of memory) comes back
        workers_kill_timeout=10)  # a worker that does not stop when told is killed
    server.serve()


if __name__ == "__main__":
    main()
