"""Fixtures of the end-to-end suite: the example servers run.sh started, and a client of
each in both encodings."""

from __future__ import annotations

import os
from typing import AsyncIterator

import pytest
from calculator_client import Client as CalculatorClient
from streams_client import Client as StreamsClient

ENCODINGS = ["json", "msgpack"]


def server_url(name: str) -> str:
    url = os.environ.get(f"VOLLEY_{name.upper()}_URL")
    if not url:
        raise RuntimeError(f"VOLLEY_{name.upper()}_URL is not set: run the suite with tests/python/run.sh")
    return url


@pytest.fixture(params=ENCODINGS)
def encoding(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
async def calculator(encoding: str) -> AsyncIterator[CalculatorClient]:
    async with CalculatorClient.connect(server_url("calculator"), encoding=encoding) as client:
        yield client
