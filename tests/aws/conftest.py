"""Fixtures for the AWS option: the offline preview of the shipped aws-xks-paris stack."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from stacks.offline import run_preview

STACK = "aws-xks-paris"


class Graph:
    """The preview's resources, indexed for assertions."""

    def __init__(self, states: list[dict[str, Any]]) -> None:
        self.states = states
        self.by_urn = {s["urn"]: s for s in states}

    def of_type(self, type_token: str) -> list[dict[str, Any]]:
        return [s for s in self.states if s["type"] == type_token]

    def one(self, type_token: str, name_part: str = "") -> dict[str, Any]:
        matches = [s for s in self.of_type(type_token) if name_part in s["urn"].rsplit("::", 1)[1]]
        assert len(matches) == 1, f"expected one {type_token} named *{name_part}*, found {len(matches)}"
        return matches[0]

    def key_by_arn(self, arn: str) -> dict[str, Any]:
        """The aws:kms/key:Key whose ARN is ``arn``."""
        keys = [k for k in self.of_type("aws:kms/key:Key") if k["outputs"].get("arn") == arn]
        assert len(keys) == 1, f"{arn!r} is not the ARN of a key of this stack"
        return keys[0]

    def key_store_of(self, key: dict[str, Any]) -> dict[str, Any]:
        stores = [
            s
            for s in self.of_type("aws:kms/customKeyStore:CustomKeyStore")
            if s["outputs"]["id"] == key["inputs"]["customKeyStoreId"]
        ]
        assert len(stores) == 1, "key is not in a custom key store of this stack"
        return stores[0]


@pytest.fixture(scope="session")
def aws_graph() -> Graph:
    return Graph(run_preview(STACK).states)


@pytest.fixture
def kms() -> Iterator[tuple[Any, Stubber]]:
    """A KMS client in eu-west-3 whose calls a botocore Stubber answers (moto has no custom key stores);
    every queued answer must be used."""
    client = boto3.client(
        "kms", region_name="eu-west-3", aws_access_key_id="test", aws_secret_access_key="test"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()
