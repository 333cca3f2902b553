"""Unit tests of the runtime modules in place (`templates/python/_runtime`), without a
server: the files every SDK vendors, imported as the package `_runtime`."""

from __future__ import annotations

import sys
from pathlib import Path

# Appended, not prepended: `templates/python` also holds the `types.py` template, which
# must not shadow the standard library's `types`.
sys.path.append(str(Path(__file__).resolve().parents[3] / "templates" / "python"))
