"""Reconnect backoff, with the clock and the random source injected."""

from __future__ import annotations

import itertools

import pytest
from _runtime.errors import VolleyConnectionError
from _runtime.reconnect import Backoff, retry


def test_delays_grow_by_factor_up_to_maximum() -> None:
    top = list(Backoff(initial=0.1, maximum=1.0, factor=2.0, attempts=6).delays(lambda: 0.999999))
    assert top == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0], rel=1e-5)


def test_jitter_keeps_each_delay_between_half_and_all() -> None:
    low = list(Backoff(initial=1.0, maximum=8.0, attempts=5).delays(lambda: 0.0))
    assert low == [0.5, 1.0, 2.0, 4.0, 4.0]
    mid = list(Backoff(initial=1.0, attempts=2).delays(lambda: 0.5))
    assert mid == [0.75, 1.5]


def test_attempts_none_never_ends() -> None:
    delays = Backoff(initial=0.1, maximum=0.5).delays(lambda: 0.0)
    assert list(itertools.islice(delays, 1000))[-1] == 0.25


def test_zero_attempts() -> None:
    assert list(Backoff(attempts=0).delays()) == []


async def test_retry_sleeps_the_schedule_until_an_attempt_succeeds() -> None:
    slept: list[float] = []
    tries = 0

    async def sleep(s: float) -> None:
        slept.append(s)

    async def attempt() -> None:
        nonlocal tries
        tries += 1
        if tries < 3:
            raise VolleyConnectionError("refused")

    ok = await retry(Backoff(initial=1.0, factor=3.0, maximum=100.0), attempt, sleep=sleep, rand=lambda: 0.0)
    assert ok and tries == 3
    assert slept == [0.5, 1.5, 4.5]


async def test_retry_gives_up_after_its_attempts() -> None:
    slept: list[float] = []

    async def sleep(s: float) -> None:
        slept.append(s)

    async def attempt() -> None:
        raise VolleyConnectionError("refused")

    assert not await retry(Backoff(initial=1.0, attempts=3), attempt, sleep=sleep, rand=lambda: 1.0)
    assert slept == [1.0, 2.0, 4.0]


async def test_retry_stops_when_told_to() -> None:
    tries = 0

    async def sleep(s: float) -> None:
        pass

    async def attempt() -> None:
        nonlocal tries
        tries += 1
        raise VolleyConnectionError("refused")

    assert not await retry(Backoff(), attempt, stopped=lambda: tries >= 2, sleep=sleep)
    assert tries == 2


async def test_other_errors_are_not_retried() -> None:
    async def sleep(s: float) -> None:
        pass

    async def attempt() -> None:
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        await retry(Backoff(), attempt, sleep=sleep)
