"""Pulumi type tokens named by more than one module (components, offline preview, rules, readers).

A token named by one module only stays there, beside the code that uses it.
"""

from __future__ import annotations

from typing import Final

KMS_KEY: Final = "aws:kms/key:Key"
KMS_ALIAS: Final = "aws:kms/alias:Alias"
KMS_REPLICA_KEY: Final = "aws:kms/replicaKey:ReplicaKey"
KMS_EXTERNAL_KEY: Final = "aws:kms/externalKey:ExternalKey"
CUSTOM_KEY_STORE: Final = "aws:kms/customKeyStore:CustomKeyStore"
SCALEWAY_KEY: Final = "scaleway:keymanager/key:Key"
