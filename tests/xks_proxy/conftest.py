"""Fixtures for the XKS proxy tests (defined in xks_helpers.py, a uniquely named module)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from xks_helpers import proxy, proxy_factory  # type: ignore[import-not-found]

__all__ = ["proxy", "proxy_factory"]
