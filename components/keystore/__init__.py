"""The French key store host: the XKS proxy on Scaleway (fr-par) in front of a PKCS#11 HSM."""

from .config import KeystoreConfigError, KeystoreStackConfig
from .host import KeystoreHost, KeystoreHostArgs, render_cloud_init, render_proxy_config

__all__ = [
    "KeystoreConfigError",
    "KeystoreHost",
    "KeystoreHostArgs",
    "KeystoreStackConfig",
    "render_cloud_init",
    "render_proxy_config",
]
