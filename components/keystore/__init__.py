"""The French key store host: the XKS proxy on Scaleway (fr-par) in front of a PKCS#11 HSM."""

from .cloud_init import render_cloud_init, render_proxy_config, render_units
from .config import KeystoreConfigError, KeystoreStackConfig
from .host import KeystoreHost, KeystoreHostArgs
from .supply_chain import PROXY_DISTRIBUTIONS, locked_requirements

__all__ = [
    "PROXY_DISTRIBUTIONS",
    "KeystoreConfigError",
    "KeystoreHost",
    "KeystoreHostArgs",
    "KeystoreStackConfig",
    "locked_requirements",
    "render_cloud_init",
    "render_proxy_config",
    "render_units",
]
