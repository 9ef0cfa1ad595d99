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
import importlib.util
import logging
import logging.config
import signal
import sys
import warnings
from collections.abc import Sequence

import pydantic
import pydantic.warnings

# Two settings made before FastAPI is imported, each worth about 2 MiB of RSS (issue 19):
# - Every pydantic model builds its validator and serializer on first use, not when its class is
#   made. Of the ~140 models here (FastAPI's 32 OpenAPI ones among them) a quiet console uses
#   about 30; each built one holds its schema in memory.
# - FastAPI imports pydantic.v1 (26 modules) on the first route only to ask whether its models
#   are v1 ones; none here are and nothing installed uses v1. Marked absent, the import fails and
#   FastAPI takes its "no pydantic.v1" branch.
pydantic.BaseModel.model_config["defer_build"] = True
sys.modules.setdefault("pydantic.v1", None)
# FastAPI silences this warning while it makes a parameter's validator (fastapi/_compat/v2.py);
# deferred, that validator is built at the parameter's first request, outside FastAPI's filter.
warnings.filterwarnings("ignore", category=pydantic.warnings.UnsupportedFieldAttributeWarning)

from monitor import malloc, proc_reader

malloc.one_arena()  # before any thread starts (monitor/malloc.py)
proc_reader.raise_fd_limit()  # room to keep the process table's files open (monitor/proc_reader.py)


def uvicorn_without_its_command_line() -> None:
    """uvicorn as a library only, for ``python main.py`` (1.5 MiB of RSS, issue 19).

    uvicorn's package ``__init__`` imports ``uvicorn.main``, its command line: click and, through
    its process supervisors, multiprocessing. sse-starlette imports ``uvicorn.main`` too, only to
    wrap ``Server.handle_exit`` and learn that the server stops; ConsoleServer tells the streams
    itself (views/stream.py ``stopping``). So here the package is made without running its
    ``__init__``, given the two names its own modules import from it (the lifespan imports
    ``Config``), and ``uvicorn.main`` is marked absent: sse-starlette's import of it fails and it
    takes its "not under uvicorn" branch. ``uvicorn main:app`` has imported uvicorn whole first
    and is left as it is; so is any process that imports this module (tests, benchmarks).
    """
    if "uvicorn" in sys.modules:
        return
    spec = importlib.util.find_spec("uvicorn")
    package = importlib.util.module_from_spec(spec)  # made, not run
    sys.modules["uvicorn"] = package
    from uvicorn.config import Config
    from uvicorn.server import Server
    package.Config, package.Server = Config, Server
    sys.modules["uvicorn.main"] = None


if __name__ == "__main__":
    uvicorn_without_its_command_line()

import uvicorn
import uvicorn.server
from fastapi import FastAPI
from pydantic import ValidationError

import views
from monitor.areas import default_collectors
from monitor.collectors.base import Collector
from monitor.events import EventLog
from monitor.health import Judge
from monitor.history.recorder import Recorder
from monitor.sampler import Sampler, Store
from monitor.logs.follow import LogHub
from monitor.logs.sources import configured as configured_log_sources
from monitor.settings import Settings, get_settings
from monitor.logconfig import LOGGING
from views import credentials as secrets, stream

log = logging.getLogger("server_monitor")


class Console(FastAPI):
    """FastAPI, plus the connection's transport in each HTTP scope (uvicorn passes its own
    ``send``, a bound method of the request cycle that holds it), so a stream whose client
    stopped reading can be aborted instead of waiting forever to drain (views/stream.py)."""

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            transport = getattr(getattr(send, "__self__", None), "transport", None)
            if transport is not None:
                scope[stream.TRANSPORT] = transport
        await super().__call__(scope, receive, send)


class ConsoleServer(uvicorn.Server):
    """uvicorn's Server, waking once a second instead of ten times. Its main loop sleeps 0.1 s
    between looks at ``should_exit`` (and refreshes the Date header every tenth look): 0.2 % of
    a core on an idle host, a third of the console's idle budget (bench/perf_idle.py). Here a
    signal wakes the loop at once, so stopping is as quick as before."""

    _wake: asyncio.Event | None = None
    _wake_loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        self._wake, self._wake_loop = asyncio.Event(), asyncio.get_running_loop()
        stream.stopping.arm()  # streams hear of the exit from handle_exit, not by polling
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 10) % 864000  # on_tick refreshes the Date header when % 10 == 0
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 1.0)
            should_exit = await self.on_tick(counter)

    def handle_exit(self, sig, frame) -> None:
        super().handle_exit(sig, frame)
        if self._wake_loop is not None:  # in the signal handler: the loop sets its own event
            self._wake_loop.call_soon_threadsafe(self._wake.set)
        stream.stopping.set()


def create_app(settings: Settings | None = None,
               collectors: Sequence[Collector] | None = None) -> FastAPI:
    settings = settings or get_settings()
    # One collector per area (monitor/areas.py), in card order; a test may pass its own.
    collectors = list(collectors) if collectors is not None else default_collectors(settings)
    store = Store(settings.history_length, settings.history_seconds)
    # Judgment once per tick (monitor/health.py); its events survive restarts in data_dir.
    judge = Judge(settings.thresholds,
                  EventLog(settings.data_dir / "events.jsonl", keep=settings.events_keep))
    # Log sources by name (configured, or the host's defaults) and their shared live followers.
    logs = LogHub(configured_log_sources(settings.log_sources), settings.log_follow_interval,
                  settings.log_lines_max)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        sampler = Sampler(store, collectors, settings.tick, settings.collector_timeout, judge=judge)
        await sampler.sample_once()  # views never see "no data yet"
        task = asyncio.create_task(sampler.run(), name="sampler")
        if app.state.notifier is not None:  # notifications configured (views/notifications.py)
            app.state.notifier.start(task)  # its tasks stop with the sampler's
        recorder = Recorder(store, app.state.history).start()  # history.sqlite
        trimmer = asyncio.create_task(malloc.trim_every(), name="malloc-trim")  # RSS after bursts
        try:
            yield
        finally:
            for t in (task, trimmer):
                t.cancel()
            for t in (task, trimmer):
                with contextlib.suppress(asyncio.CancelledError):
                    await t
            await recorder.stop()  # writes the minute in progress
            sampler.close()  # and every collector's close()
            judge.events.close()  # open events keep their peak so far across the restart
            await logs.close()  # stop log followers (and their journalctl processes)

    app = Console(
        title="server-monitor",
        summary="Live operations console for one Linux server",
        description="Every answer is read from the sampler's latest snapshot; "
                    "units are raw (bytes, percent, seconds) and field names are psutil's.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by views/docs.py from vendored files (no CDN, no inline script)
        redoc_url=None,
    )
    # The views: what they read (views/deps.py), access control and headers, the routers.
    views.install(app, settings=settings, store=store, judge=judge, logs=logs,
                  collectors=collectors)
    return app


def main(argv: list[str] | None = None) -> None:

    try:
        settings = get_settings()
    except (ValidationError, ValueError) as exc:  # say which setting is wrong, not a traceback
        sys.exit(f"server-monitor: invalid configuration: {exc}")
    parser = argparse.ArgumentParser(description="server-monitor: live console for this server")
    parser.add_argument("--host", default=settings.host, help="address to bind (default %(default)s)")
    parser.add_argument("--port", type=int, default=settings.port, help="port (default %(default)s)")
    parser.add_argument("--ssl-certfile", default=settings.ssl_certfile,
                        help="PEM certificate (chain): serve HTTPS directly")
    parser.add_argument("--ssl-keyfile", default=settings.ssl_keyfile,
                        help="PEM private key of --ssl-certfile")
    parser.add_argument("command", nargs="?", choices=["notify-test"],
                        help="notify-test: send a test message to every notification channel and exit")
    args = parser.parse_args(argv)
    if args.command == "notify-test":  # monitor/notify/cli.py: one line per channel, exit 0/1/2
        from monitor.notify.cli import notify_test
        sys.exit(notify_test(settings.notify))
    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        parser.error("--ssl-certfile and --ssl-keyfile go together")
    settings = settings.model_copy(update={"host": args.host, "port": args.port})
    logging.config.dictConfig(LOGGING)
    try:  # a token is generated on first start; its file's path is logged, never the token
        credentials = secrets.load_credentials(settings)
    except secrets.CredentialError as exc:
        sys.exit(f"server-monitor: {exc}")
    log.info("%s", credentials.describe())
    # Templates compiled in a child, loaded compiled here: 0.3 MiB less RSS (views/templating.py).
    from views.templating import compile_all
    compile_all(settings.data_dir / "templates")
    # SIGHUP (a closed terminal, `kill -HUP`) stops as gracefully as SIGTERM: streams closed,
    # open events recorded. Left to its default it would end the process on the spot.
    if signal.SIGHUP not in uvicorn.server.HANDLED_SIGNALS:
        uvicorn.server.HANDLED_SIGNALS += (signal.SIGHUP,)
    config = uvicorn.Config(
        create_app(settings), host=args.host, port=args.port,
        timeout_graceful_shutdown=2,  # open SSE streams must not hold a restart up
        # The stdlib loop, not uvloop: at one tick a second and a few viewers it costs the same
        # CPU (idle 0.48 % against 0.52 %, one display 0.82 % against 0.87 %, side by side) and
        # 2.5 MiB less RSS (uvloop's library and its heap). uvloop serves /api/cpu 7 % faster
        # at saturation (13,700 req/s against 12,800); `uvicorn main:app --loop uvloop` for that.
        loop="asyncio",
        log_level="info", log_config=LOGGING,
        ssl_certfile=args.ssl_certfile and str(args.ssl_certfile),
        ssl_keyfile=args.ssl_keyfile and str(args.ssl_keyfile),
    )
    ConsoleServer(config).run()


if __name__ == "__main__":
    main()
else:  # `uvicorn main:app`; `python main.py` builds its app in main(), after the checks
    app = create_app()
