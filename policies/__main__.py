"""CrossGuard entry point: ``pulumi preview --policy-pack policies``.

The engine runs this file with policies/ as the working directory; importing works from there and
from the repository root (``python policies/__main__.py``, ``python -m policies``).
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from policies.pack import serve  # noqa: E402

if __name__ == "__main__":
    serve()
