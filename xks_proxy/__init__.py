"""XKS proxy: the AWS KMS External Key Store Proxy API v1 in front of a PKCS#11 HSM.

Run with ``python -m xks_proxy --config FILE``; key custodians use ``python -m xks_proxy keys ...``.
"""

__version__ = "1.0.0"
PRODUCT = "sovereign-booking xks_proxy"
