"""What the test applications share: the start-up the test holds.

Each application's initialization waits for a file the test writes (its
"go" file), so that the test decides how long the component is
``starting``.  A file that says "fail: <why>" makes the step raise, as a
failing migration would; the application then waits for the file to change
and tries again.
"""
from __future__ import annotations

import asyncio
import os
import time
from typing import Optional


def read_go(path: str) -> Optional[str]:
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        return None


def wait_go(path: str, last: Optional[str] = None) -> str:
    """Block until the file exists and says something other than ``last``."""
    while True:
        content = read_go(path)
        if content is not None and content != last:
            return content
        time.sleep(0.05)


async def wait_go_async(path: str, last: Optional[str] = None) -> str:
    while True:
        content = read_go(path)
        if content is not None and content != last:
            return content
        await asyncio.sleep(0.05)


def check(content: str) -> None:
    """The initialization step's work: fail as the file says."""
    if content.startswith("fail:"):
        raise RuntimeError(content[len("fail:"):].strip())


def env(name: str, default: Optional[str] = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise SystemExit("%s is not set" % name)
    return value
