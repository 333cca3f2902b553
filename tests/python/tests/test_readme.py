"""The README's Python quick start, run as written against the live example servers.

The code blocks are taken from README.md itself, so the README cannot drift from the
generated SDK without this failing."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import textwrap
from pathlib import Path

from conftest import server_url

README = Path(__file__).resolve().parents[3] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def run_block(code: str, env: dict[str, object]) -> str:
    code = code.replace("ws://127.0.0.1:8000/", server_url("calculator"))
    code = code.replace("ws://127.0.0.1:8001/", server_url("streams"))
    code = code.replace("ws://127.0.0.1:8004/", server_url("device"))
    code = code.replace("ws://127.0.0.1:8005/", server_url("machines"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), env)  # noqa: S102 - the README's own code
    return out.getvalue()


def test_the_calculator_quick_start_prints_what_the_readme_says() -> None:
    block = next(b for b in python_blocks() if "calculator_client" in b)
    # asyncio.run cannot run inside pytest's loop; this suite's tests are sync here.
    out = run_block(block, {"__name__": "readme"})
    lines = out.split("\n")
    assert lines[0] == "3"
    assert lines[1] == "6.0"
    assert lines[2].startswith("1000 "), out


def test_the_streams_snippet_runs_as_written() -> None:
    block = next(b for b in python_blocks() if "streams_client" in b)
    head, _, body = block.partition("async with ")
    code = head + "async def snippet() -> None:\n" + textwrap.indent("async with " + body, "    ")
    env: dict[str, object] = {"__name__": "readme"}
    run_block(code, env)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            asyncio.run(env["snippet"]())  # type: ignore[operator]
        except Exception as e:  # the snippet ends with a call that times out, as it says
            assert type(e).__name__ in ("VolleyError",) or "DEADLINE_EXCEEDED" in str(e), repr(e)
        else:
            raise AssertionError("the last call of the snippet should time out")
    assert out.getvalue().split() == ["3", "2", "1", "ann:", "HI", "ann:", "BYE"], out.getvalue()


def commented_output(block: str) -> list[str]:
    """The `# ...` comments of the block's `print(` lines: what the README says they print."""
    return [line.split("# ", 1)[1].strip() for line in block.split("\n") if "print(" in line and "# " in line]


def test_the_sessions_snippet_prints_what_its_comments_say() -> None:
    block = next(b for b in python_blocks() if "device_client" in b)
    out = run_block(block, {"__name__": "readme"})
    assert out.strip().split("\n") == commented_output(block)
    assert len(commented_output(block)) == 6


def test_the_state_machine_snippet_prints_what_its_comments_say() -> None:
    block = next(b for b in python_blocks() if "machines_client" in b)
    out = run_block(block, {"__name__": "readme"})
    assert out.strip().split("\n") == commented_output(block)
    assert len(commented_output(block)) == 3
