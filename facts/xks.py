"""AWS KMS external key store (XKS) limits, from the AWS KMS API reference (CreateCustomKeyStore,
XksProxyAuthenticationCredentialType). Read by the stack config and the key rules."""

from __future__ import annotations

import re
from typing import Final

#: XksProxyUriPath: an optional prefix of [a-zA-Z0-9/_-], then /kms/xks/v<version>.
URI_PATH: Final = re.compile(r"^(/[a-zA-Z0-9/_-]+)?/kms/xks/v\d{1,2}$")
URI_PATH_LENGTH: Final = range(10, 128 + 1)
#: XksProxyUriEndpoint host: a fully qualified DNS name (https, port 443 only).
ENDPOINT_HOST: Final = re.compile(
    r"^(?=.{4,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$"
)
#: XksProxyAuthenticationCredential: AccessKeyId and RawSecretAccessKey.
ACCESS_KEY_ID: Final = re.compile(r"^[A-Z2-7]{20,30}$")
SECRET_ACCESS_KEY: Final = re.compile(r"^[A-Za-z0-9+/=]{43,64}$")
#: XksKeyId: the key's id in the external key manager.
KEY_ID: Final = re.compile(r"^[a-zA-Z0-9_.-]{1,128}$")
#: XksProxyConnectivity.
CONNECTIVITY: Final[tuple[str, ...]] = ("PUBLIC_ENDPOINT", "VPC_ENDPOINT_SERVICE")
#: The XKS proxy API (version 1) every XksProxyUriPath ends with.
API_PATH: Final = "/kms/xks/v1"
