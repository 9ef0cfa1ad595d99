"""server-monitor: a live operations console for one Linux server.

    python main.py                       # http://127.0.0.1:8000
    python main.py --host 127.0.0.1 --port 8080
    uvicorn main:app                     # same app, uvicorn's own flags

The app's lifespan starts the one Sampler (a background task that reads the host every tick)
and stops it on shutdown; every view reads the Store it publishes to.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import Sequence
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from monitor.collectors import default_collectors
from monitor.collectors.base import Collector
from monitor.sampler import Sampler, Store
from monitor.settings import Settings, get_settings
from views import api, errors, pages, stream
from views.security import SecurityHeaders

ROOT = Path(__file__).resolve().parent
log = logging.getLogger("server_monitor")


def create_app(settings: Settings | None = None,
               collectors: Sequence[Collector] | None = None) -> FastAPI:
    settings = settings or get_settings()
    collectors = list(collectors) if collectors is not None else default_collectors()
    store = Store(settings.history_length)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        sampler = Sampler(store, collectors, settings.tick, settings.collector_timeout)
        await sampler.sample_once()  # views never see "no data yet"
        task = asyncio.create_task(sampler.run(), name="sampler")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            sampler.close()

    app = FastAPI(
        title="server-monitor",
        summary="Live operations console for one Linux server",
        description="Every answer is read from the sampler's latest snapshot; "
                    "units are raw (bytes, percent, seconds) and field names are psutil's.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    # Cards on the dashboard, in order; "system" is shown in the page header instead.
    app.state.card_areas = [c.name for c in collectors]

    app.add_middleware(SecurityHeaders)
    errors.install(app)
    app.include_router(pages.router)
    app.include_router(api.build_router(collectors))
    app.include_router(api.health_router)
    app.include_router(stream.router)
    app.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")
    return app


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    settings = get_settings()
    parser = argparse.ArgumentParser(description="server-monitor: live console for this server")
    parser.add_argument("--host", default=settings.host, help="address to bind (default %(default)s)")
    parser.add_argument("--port", type=int, default=settings.port, help="port (default %(default)s)")
    args = parser.parse_args(argv)
    settings = settings.model_copy(update={"host": args.host, "port": args.port})
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    uvicorn.run(
        create_app(settings), host=args.host, port=args.port,
        timeout_graceful_shutdown=2,  # open SSE streams must not hold a restart up
        log_level="info",
    )


app = create_app()

if __name__ == "__main__":
    main()
