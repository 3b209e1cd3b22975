"""KMS read live: custom key stores (XKS), customer keys and their aliases."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from facts.tokens import CUSTOM_KEY_STORE, KMS_ALIAS, KMS_KEY
from policies.inputs.live.aws_client import UNREAD, AwsClient, UnreadableError
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
        _key(aws, region, meta["KeyMetadata"])
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


def _key(aws: AwsClient, region: str, meta: Mapping[str, Any]) -> None:
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
            # Who may use the key (BK-ACCESS-001, BK-KEY-006); UNREAD when the read failed (the gap is recorded).
            "policy": _key_policy(aws, region, meta["KeyId"]),
            "grants": _grants(aws, region, meta["KeyId"]),
        },
        ident=meta["KeyId"],
    )


def _key_policy(aws: AwsClient, region: str, key_id: str) -> str:
    try:
        answer = aws.call(
            "kms", region, "GetKeyPolicy", f"policy of KMS key {key_id}", KeyId=key_id, PolicyName="default"
        )
    except UnreadableError:
        return UNREAD
    return str(answer.get("Policy") or UNREAD)


def _grants(aws: AwsClient, region: str, key_id: str) -> list[dict[str, Any]] | str:
    try:
        grants = aws.pages("kms", region, "ListGrants", "Grants", f"grants of KMS key {key_id}", KeyId=key_id)
    except UnreadableError:
        return UNREAD
    return [
        {
            "grantId": g.get("GrantId"),
            "granteePrincipal": g.get("GranteePrincipal"),
            "retiringPrincipal": g.get("RetiringPrincipal"),
            "issuingAccount": g.get("IssuingAccount"),
            "operations": g.get("Operations", []),
        }
        for g in grants
    ]
