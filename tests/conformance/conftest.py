"""Fixtures of the conformance suite: a raw connection to each example server run.sh
started, in each encoding."""

from __future__ import annotations

from typing import AsyncIterator

import pytest

import volleyc
from volleyc import Conn


@pytest.fixture(params=volleyc.ENCODINGS)
def enc(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


class Opener:
    """Opens connections for one check and closes them all afterwards."""

    def __init__(self) -> None:
        self.conns: list[Conn] = []

    async def __call__(self, name: str, enc: str, **kw: object) -> Conn:
        c = await volleyc.open_example(name, enc, **kw)  # type: ignore[arg-type]
        self.conns.append(c)
        return c

    async def close(self) -> None:
        for c in self.conns:
            await c.close()


@pytest.fixture
async def opener() -> AsyncIterator[Opener]:
    o = Opener()
    yield o
    await o.close()


@pytest.fixture
async def calc(enc: str, opener: Opener) -> Conn:
    return await opener("calculator", enc)


@pytest.fixture
async def streams(enc: str, opener: Opener) -> Conn:
    return await opener("streams", enc)


@pytest.fixture
async def hooks(enc: str, opener: Opener) -> Conn:
    return await opener("hooks", enc)


@pytest.fixture
async def machines(enc: str, opener: Opener) -> Conn:
    return await opener("machines", enc)


@pytest.fixture
async def device(enc: str, opener: Opener) -> Conn:
    return await opener("device", enc)
