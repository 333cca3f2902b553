"""Credit accounting (PROTOCOL.md section 4), both sides."""

from __future__ import annotations

import asyncio

from _runtime.credit import Credit, Window


def test_window_refuses_items_beyond_credit() -> None:
    w = Window(4)
    assert all(w.take() for _ in range(4))
    assert not w.take()


def test_window_grants_back_at_half_the_window() -> None:
    w = Window(8)
    for _ in range(8):
        assert w.take()
    assert [w.consume() for _ in range(4)] == [0, 0, 0, 4]
    assert w.outstanding == 4
    assert all(w.take() for _ in range(4))
    assert not w.take()
    assert [w.consume() for _ in range(8)] == [0, 0, 0, 4, 0, 0, 0, 4]
    assert w.outstanding == 8


def test_a_window_of_one_grants_every_item() -> None:
    w = Window(1)
    assert w.take() and not w.take()
    assert w.consume() == 1
    assert w.take()


def test_a_reader_never_lets_the_sender_more_than_a_window_ahead() -> None:
    w = Window(5)
    sent = read = 0
    for step in range(100):
        while w.take():
            sent += 1
        assert sent - read <= 5
        if step % 3:
            read += 1
            w.consume()
    assert sent - read <= 5


def test_credit_spends_what_was_granted() -> None:
    c = Credit()
    assert not c.spend()
    c.grant(2)
    assert c.spend() and c.spend() and not c.spend()


async def test_a_sender_waits_for_a_grant() -> None:
    c = Credit()
    sent: list[int] = []

    async def send(n: int) -> None:
        for i in range(n):
            while c.available <= 0:
                await c.wait()
            assert c.spend()
            sent.append(i)

    task = asyncio.create_task(send(3))
    await asyncio.sleep(0)
    assert sent == []
    c.grant(2)
    await asyncio.sleep(0)
    assert sent == [0, 1]
    c.grant(1)
    await asyncio.wait_for(task, 1)
    assert sent == [0, 1, 2]


async def test_wake_releases_a_waiting_sender() -> None:
    c = Credit()
    waiting = asyncio.create_task(c.wait())
    await asyncio.sleep(0)
    assert not waiting.done()
    c.wake()
    await asyncio.wait_for(waiting, 1)
    assert c.available == 0
