"""A bare FastAPI app served exactly like the console (uvicorn, httptools, the stdlib loop, one
worker), as the benchmark floor.

    python bench/bare_app.py PORT [--no-access-log]

No middleware. ``/hello`` is FastAPI's smallest answer; ``/json/{size}`` returns a dict whose
JSON body is ``size`` bytes (the way a plain FastAPI endpoint answers: serialised per request),
``/bytes/{size}`` the same body made once (the way the console answers: bytes made once per tick),
so a console endpoint is compared with a body of its own size.
"""
import sys

import uvicorn
from fastapi import FastAPI
from fastapi.responses import Response

app = FastAPI()


def _body(size: int) -> dict:
    """A dict whose compact JSON (as FastAPI writes it) is ``size`` bytes (at least 13)."""
    return {"pad": "x" * max(0, size - len('{"pad":""}'))}


_dicts: dict[int, dict] = {}
_bytes: dict[int, bytes] = {}


@app.get("/hello")
def hello() -> dict:
    return {"hello": "world"}


@app.get("/json/{size}")
async def json_body(size: int) -> dict:
    if size not in _dicts and len(_dicts) < 16:
        _dicts[size] = _body(size)
    return _dicts.get(size) or _body(size)


@app.get("/bytes/{size}")
async def bytes_body(size: int) -> Response:
    if size not in _bytes and len(_bytes) < 16:
        _bytes[size] = ('{"pad":"%s"}' % ("x" * max(0, size - 10))).encode()
    return Response(_bytes.get(size) or b"{}", media_type="application/json")


if __name__ == "__main__":
    # Access log on, as the console runs, unless asked (to measure what the log itself costs).
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="info", loop="asyncio",
                access_log="--no-access-log" not in sys.argv[2:])
