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
#: Google Cloud technology (S3NS, package gcp).
GCP_KMS_KEY: Final = "gcp:kms/cryptoKey:CryptoKey"
GCP_KMS_KEY_RING: Final = "gcp:kms/keyRing:KeyRing"
GCP_SQL_INSTANCE: Final = "gcp:sql/databaseInstance:DatabaseInstance"
GCP_BUCKET: Final = "gcp:storage/bucket:Bucket"
GCP_SECRET: Final = "gcp:secretmanager/secret:Secret"  # noqa: S105 - a type token
