"""Fixtures for the XKS proxy tests (defined in xks_helpers.py, a uniquely named module)."""

from tests.xks_proxy.xks_helpers import proxy, proxy_factory

__all__ = ["proxy", "proxy_factory"]
