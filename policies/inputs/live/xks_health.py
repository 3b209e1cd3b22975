"""Optional: the XKS proxy's health over a signed request (XKS Proxy API v1, ``GetHealthStatus``).

Only when verify is given the proxy credential (AWS KMS console JSON file, or ``XKS_ACCESS_KEY_ID`` /
``XKS_SECRET_ACCESS_KEY``). The request is the one AWS KMS itself sends: ``POST {path}/health``
signed with SigV4 for service ``kms``. It reads the proxy's state and changes nothing.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from facts.providers import home_region
from facts.tokens import CUSTOM_KEY_STORE
from policies.inputs.live.errors import VerifyError
from policies.model import Stack
from tooling.cli import BadInputError, read_json


@dataclass(frozen=True)
class ProxyCredential:
    access_key_id: str
    secret_access_key: str
    uri_path: str | None = None


def load_credential(path: Path | None, environ: Mapping[str, str]) -> ProxyCredential | None:
    """The proxy credential, checked before any read (a malformed file is refused at once)."""
    if path is not None:
        try:
            document = read_json(path, "--xks-credentials")
        except BadInputError as error:
            raise VerifyError(str(error)) from error
        auth = document.get("XksProxyAuthenticationCredential") if isinstance(document, Mapping) else None
        fields = ("AccessKeyId", "RawSecretAccessKey")
        if not isinstance(auth, Mapping) or not all(
            isinstance(auth.get(f), str) and auth.get(f) for f in fields
        ):
            raise VerifyError(
                f"--xks-credentials {path}: must be the AWS KMS console's JSON, an object whose "
                "XksProxyAuthenticationCredential holds AccessKeyId and RawSecretAccessKey strings"
            )
        uri_path = document.get("XksProxyUriPath") if isinstance(document, Mapping) else None
        return ProxyCredential(
            auth["AccessKeyId"], auth["RawSecretAccessKey"], uri_path if isinstance(uri_path, str) else None
        )
    if environ.get("XKS_ACCESS_KEY_ID") and environ.get("XKS_SECRET_ACCESS_KEY"):
        return ProxyCredential(environ["XKS_ACCESS_KEY_ID"], environ["XKS_SECRET_ACCESS_KEY"])
    return None


def health(
    endpoint: str, path: str, region: str, credential: ProxyCredential, timeout: float = 10
) -> dict[str, Any]:
    """``{"status": "ok"|"failed", "detail": ...}`` for one proxy."""
    url = endpoint.rstrip("/") + path.rstrip("/") + "/health"
    body = json.dumps(
        {"requestMetadata": {"kmsRequestId": str(uuid.uuid4()), "kmsOperation": "KmsHealthCheck"}}
    )
    if not url.startswith("https://"):
        return {"status": "failed", "detail": f"{url} is not an https URL"}
    request = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/json"})
    signer = SigV4Auth(Credentials(credential.access_key_id, credential.secret_access_key), "kms", region)
    signer.add_auth(request)
    headers = dict(request.headers.items())
    prepared = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")  # noqa: S310
    context = ssl.create_default_context()
    try:
        with urllib.request.urlopen(prepared, timeout=timeout, context=context) as response:  # noqa: S310
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return {
            "status": "failed",
            "detail": f"HTTP {error.code}: {error.read()[:200].decode(errors='replace')}",
        }
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
        return {"status": "failed", "detail": f"{type(error).__name__}: {error}"}
    hsms = answer.get("ekmFleetDetails", [])
    unhealthy = [h for h in hsms if isinstance(h, dict) and h.get("healthStatus") != "ACTIVE"]
    if not hsms or unhealthy:
        return {"status": "failed", "detail": f"HSMs not all ACTIVE: {hsms}"}
    return {"status": "ok", "detail": f"{len(hsms)} HSM(s) ACTIVE"}


def check_stores(stack: Stack, credential: ProxyCredential, progress: Callable[[str], None]) -> Stack:
    """The stack with ``proxyHealth`` set on every external key store (read by BK-LIVE-003)."""
    resources = []
    for original in stack.resources:
        resource = original
        if resource.type == CUSTOM_KEY_STORE and resource.get("customKeyStoreType") == "EXTERNAL_KEY_STORE":
            endpoint = str(resource.get("xksProxyUriEndpoint", default=""))
            path = credential.uri_path or str(resource.get("xksProxyUriPath", default=""))
            progress(f"xks proxy health: {endpoint}{path}")
            result = health(endpoint, path, resource.region or home_region("aws"), credential)
            resource = replace(resource, properties={**resource.properties, "proxyHealth": result})
        resources.append(resource)
    # Everything the read established (its gaps, that it is live) carries over with the checked stores.
    return Stack(stack.name, resources, stack.config, stack.secret_config_keys, stack.gaps, stack.kind)
