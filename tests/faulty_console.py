"""The real console (main.py, same arguments) with faults a test can switch on by creating a file:
- $SERVER_MONITOR_TEST_STALL exists: the next tick never gets published (the sampler is stuck
  inside ``Store.publish`` while the event loop goes on serving requests);
- $SERVER_MONITOR_TEST_JUDGE_FAIL exists: judging raises, as a bug in it would.
Used by tests/test_watchdog.py and tests/test_fail_closed_browser.py."""
from __future__ import annotations

import asyncio
import os
import runpy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor import health, sampler  # noqa: E402


def _on(var: str) -> bool:
    path = os.environ.get(var)
    return bool(path) and os.path.exists(path)


_publish = sampler.Store.publish
_judge = health.Judge.__call__


async def publish(self, snap):
    if _on("SERVER_MONITOR_TEST_STALL"):
        await asyncio.Event().wait()  # stuck for good; cancelled at shutdown
    await _publish(self, snap)


def judge(self, snap, history=None):
    if _on("SERVER_MONITOR_TEST_JUDGE_FAIL"):
        raise RuntimeError("injected judge failure")
    return _judge(self, snap, history)


sampler.Store.publish = publish
health.Judge.__call__ = judge
sys.argv[0] = str(ROOT / "main.py")
runpy.run_path(str(ROOT / "main.py"), run_name="__main__")
