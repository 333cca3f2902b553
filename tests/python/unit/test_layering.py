"""The core runtime stands without the optional modules, as in an SDK that does not
get them, and every module imports only the ones before it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

RUNTIME = Path(__file__).resolve().parents[3] / "templates" / "python" / "_runtime"
CORE = ["errors", "values", "readers", "frames", "codec", "credit", "reconnect", "transport", "calls", "connection"]
OPTIONAL = ["streams", "server_calls", "subscriptions", "topics", "patch", "state", "machines", "operations"]


def test_the_core_imports_no_optional_module() -> None:
    code = (
        f"import sys; sys.path.append({str(RUNTIME.parent)!r}); import _runtime.connection; "
        f"print(sorted(m for m in sys.modules if m.startswith('_runtime.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    loaded = {m.removeprefix("_runtime.") for m in eval(out)}
    assert "connection" in loaded and loaded <= set(CORE), loaded


def test_imports_run_one_way() -> None:
    order = CORE + OPTIONAL
    assert sorted(p.stem for p in RUNTIME.glob("*.py") if p.stem != "__init__") == sorted(order)
    for i, name in enumerate(order):
        tree = ast.parse((RUNTIME / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                assert node.module in order[:i], f"{name} imports {node.module}"
                if name in CORE:
                    assert node.module in CORE
