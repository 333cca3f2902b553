"""Fixtures of the hostile-client suite: the servers run.sh started, and a summary of
every server's RSS around every attack at the end of the run."""

from __future__ import annotations

from typing import Any

import pytest

import hostile
from hostile import Target


@pytest.fixture(scope="session")
def calc() -> Target:
    return hostile.target("calculator")


@pytest.fixture(scope="session")
def streams() -> Target:
    return hostile.target("streams")


@pytest.fixture(scope="session")
def capped() -> Target:
    """A calculator run under `ulimit -n 256`: its connection cap is 256 - 64 = 192."""
    return hostile.target("capped")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not hostile.RESULTS:
        return
    tr = terminalreporter
    tr.section("server RSS around each attack")
    tr.write_line(f"{'attack':<58} {'server':<11} {'before':>10} {'after':>10} {'peak':>10} {'growth':>10}  bound")
    for w in hostile.RESULTS:
        bound = f"< {hostile.mib(hostile.RSS_BOUND)}" if w.checked else "(printed only)"
        tr.write_line(
            f"{w.label:<58} {w.server.name:<11} {hostile.mib(w.before):>10} {hostile.mib(w.after):>10} "
            f"{hostile.mib(w.peak):>10} {hostile.mib(w.growth):>10}  {bound}"
        )
