"""uvicorn, announcing readiness with the documented ready line."""

from __future__ import annotations

import socket

import uvicorn


class ReadyLineServer(uvicorn.Server):
    """Prints the ready line (flushed) only once the socket is accepting connections."""

    def __init__(self, config: uvicorn.Config, ready_line: str) -> None:
        super().__init__(config)
        self.ready_line = ready_line

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's startup, then the ready line."""
        await super().startup(sockets=sockets)
        if self.started:
            print(self.ready_line, flush=True)
