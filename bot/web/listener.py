"""One aiohttp application listening on one host and port, started and stopped by the
composition root next to the PTB application (a manual lifecycle)."""

from __future__ import annotations

from aiohttp import web


class Listener:
    """Serves ``app`` on ``host:port``; port 0 picks a free one (read ``port`` after start)."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._runner = web.AppRunner(app, access_log=None)

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        await self._runner.cleanup()
