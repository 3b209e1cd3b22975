"""KMS read live: custom key stores (XKS), customer keys and their aliases."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from facts.tokens import CUSTOM_KEY_STORE, KMS_ALIAS, KMS_KEY
from policies.inputs.live.aws_client import AwsClient, UnreadableError
from policies.model import SECRET

KMS_STORE: Final = CUSTOM_KEY_STORE


def read_kms(aws: AwsClient, region: str) -> None:
    try:
        stores = aws.call("kms", region, "DescribeCustomKeyStores", "KMS custom key stores", role="stores")
        for store in stores.get("CustomKeyStores", []):
            _key_store(aws, region, store)
    except UnreadableError:
        pass
    keys = aws.pages("kms", region, "ListKeys", "Keys", "KMS keys")
    for entry in keys:
        try:
            meta = aws.call("kms", region, "DescribeKey", f"KMS key {entry['KeyId']}", KeyId=entry["KeyId"])
        except UnreadableError:
            continue
        _key(aws, region, meta["KeyMetadata"], _key_policy(aws, region, meta["KeyMetadata"]))
    try:
        aliases = aws.pages("kms", region, "ListAliases", "Aliases", "KMS aliases")
    except UnreadableError:
        return
    for alias in aliases:
        name = alias.get("AliasName", "")
        if name.startswith("alias/aws/") or not alias.get("TargetKeyId"):
            continue
        aws.add(
            KMS_ALIAS,
            name,
            region,
            {"name": name, "arn": alias.get("AliasArn"), "targetKeyId": alias.get("TargetKeyId")},
            ident=name,
        )


def _key_store(aws: AwsClient, region: str, store: Mapping[str, Any]) -> None:
    proxy = store.get("XksProxyConfiguration", {})
    # KMS holds the proxy credential; in the model it is what Pulumi makes it, a secret.
    credential = SECRET if proxy.get("AccessKeyId") else None
    aws.add(
        KMS_STORE,
        store.get("CustomKeyStoreName", store["CustomKeyStoreId"]),
        region,
        {
            "customKeyStoreId": store["CustomKeyStoreId"],
            "customKeyStoreName": store.get("CustomKeyStoreName"),
            "customKeyStoreType": store.get("CustomKeyStoreType", "AWS_CLOUDHSM"),
            "cloudHsmClusterId": store.get("CloudHsmClusterId"),
            "xksProxyUriEndpoint": proxy.get("UriEndpoint"),
            "xksProxyUriPath": proxy.get("UriPath"),
            "xksProxyConnectivity": proxy.get("Connectivity"),
            "xksProxyVpcEndpointServiceName": proxy.get("VpcEndpointServiceName"),
            "xksProxyAuthenticationCredential": credential,
            "connectionState": store.get("ConnectionState"),
            "connectionErrorCode": store.get("ConnectionErrorCode"),
        },
        ident=store["CustomKeyStoreId"],
    )


def _key_policy(aws: AwsClient, region: str, meta: Mapping[str, Any]) -> str | None:
    """The key's policy (BK-KEY-006 judges its service principals); None when it cannot be read."""
    if meta.get("KeyManager") == "AWS":
        return None
    try:
        answer = aws.call(
            "kms",
            region,
            "GetKeyPolicy",
            f"KMS key {meta['KeyId']} policy",
            KeyId=meta["KeyId"],
            PolicyName="default",
        )
    except UnreadableError:
        return None  # recorded as a gap; BK-KEY-006 reports the key's policy as unreadable
    policy = answer.get("Policy")
    return policy if isinstance(policy, str) else None


def _key(aws: AwsClient, region: str, meta: Mapping[str, Any], policy: str | None = None) -> None:
    if meta.get("KeyManager") == "AWS":
        return  # AWS-managed keys (aws/s3, aws/rds...): data stores using them fail BK-ENC-001
    aws.arns.add(meta["Arn"])
    aws.add(
        KMS_KEY,
        meta["KeyId"],
        region,
        {
            "arn": meta["Arn"],
            "keyId": meta["KeyId"],
            "description": meta.get("Description"),
            "isEnabled": meta.get("Enabled"),
            "keyUsage": meta.get("KeyUsage"),
            "customerMasterKeySpec": meta.get("KeySpec", meta.get("CustomerMasterKeySpec")),
            "multiRegion": meta.get("MultiRegion", False),
            "customKeyStoreId": meta.get("CustomKeyStoreId"),
            "xksKeyId": (meta.get("XksKeyConfiguration") or {}).get("Id"),
            "keyState": meta.get("KeyState"),
            "origin": meta.get("Origin"),
            "policy": policy,
        },
        ident=meta["KeyId"],
    )
