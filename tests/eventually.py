"""Waiting, in real time, for something that follows by a moment: a projection, a visibility
update, a delivery beside the lifecycle, a simulated department acting.

One helper for every test: `check` asserts the condition (and may return what it found); it is
retried until it stops raising AssertionError, and after `timeout` seconds its last failure is
raised as it is, with its own message. The wait ends as soon as the condition holds, so timeouts
are generous: they only bound a failing test."""

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def assert_eventually(check: Callable[[], T | Awaitable[T]], timeout: float = 30.0, interval: float = 0.05) -> T:
    """`check()` (sync or async) until it passes; returns its result."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if inspect.isawaitable(result):
                result = await result
            return result  # type: ignore[return-value]
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
        await asyncio.sleep(interval)


def assert_eventually_sync(check: Callable[[], T], timeout: float = 30.0, interval: float = 0.05) -> T:
    """The same for a plain (not async) test, such as one driving a subprocess."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
        time.sleep(interval)
