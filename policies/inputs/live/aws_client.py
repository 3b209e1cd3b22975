"""Plumbing of the live AWS read: guarded clients, one read call, pagination, gaps, the model's resources.

Reads go through a :func:`policies.inputs.live.guard.read_only_session`: only allow-listed read calls
can be made. A denied permission becomes a :class:`~policies.inputs.live.errors.Gap` (what could not be
checked, and the IAM action that was missing) and the read carries on; missing or expired
credentials stop the run with a :class:`~policies.inputs.live.errors.CredentialError`; throttling is
retried with exponential backoff by botocore (standard retry mode) and counted. The per-service
readers (``aws_*.py``) use only what this module gives them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, cast

import boto3
from botocore.client import BaseClient
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    TokenRetrievalError,
)
from botocore.parsers import ResponseParserError
from botocore.utils import ArnParser

from facts import providers as provider_facts
from policies.catalog import UNREAD_MARKER
from policies.inputs.live.errors import (
    CREDENTIAL_CODES,
    DENIED_CODES,
    THROTTLING_CODES,
    Coverage,
    CredentialError,
    Gap,
    UnknownRegionError,
    VerifyError,
)
from policies.inputs.live.guard import MAX_ATTEMPTS, RETRY_CONFIG, iam_action
from policies.model import Resource

PROJECT: Final = "sovereign-booking"
#: Where the account-level calls (STS, region list, bucket list) are made when no region is set.
HOME_REGION: Final = provider_facts.home_region("aws")

Progress = Callable[[str], None]

#: A setting whose read failed (the gap is recorded): rules that meet it fail closed.
UNREAD: Final = UNREAD_MARKER

_ABSENT: Final[dict[str, Any]] = {}


class UnreadableError(Exception):
    """Internal: a read failed and was recorded as a gap."""


def _no_progress(_: str) -> None:
    return None


@dataclass
class AwsClient:
    """One account's guarded clients, the resources read so far and what could not be read."""

    session: boto3.Session
    allowed_regions: tuple[str, ...] = field(default_factory=lambda: provider_facts.allowed_regions()["aws"])
    stack_name: str = ""
    progress: Progress = _no_progress
    #: Clients to use instead of the session's, by (service, region) or (service, region + "#role").
    clients: dict[str, BaseClient] = field(default_factory=dict)
    endpoint_url: str | None = None
    coverage: Coverage = field(default_factory=Coverage)
    account: str = ""
    resources: list[Resource] = field(default_factory=list)
    #: ARNs of everything read in detail: the tag sweep reports only the others.
    arns: set[str] = field(default_factory=set)
    #: Readers run concurrently (policies/inputs/live/aws.py): what they share is changed under this lock.
    #: botocore clients are thread-safe, a boto3 Session is not, so clients are made under it too.
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False)

    def __post_init__(self) -> None:
        self.session.events.register("response-received", self._count, unique_id="sovereign-booking-count")

    # -- plumbing -------------------------------------------------------------------------------

    def _count(self, parsed_response: Any = None, **_: Any) -> None:
        with self._lock:
            self.coverage.calls += 1
            if isinstance(parsed_response, Mapping):
                code = parsed_response.get("Error", {}).get("Code")
                if code in THROTTLING_CODES:
                    self.coverage.retries += 1

    def client(self, service: str, region: str, role: str = "") -> BaseClient:
        key = f"{service}@{region}" + (f"#{role}" if role else "")
        with self._lock:
            if key not in self.clients:
                self.clients[key] = self.session.client(  # type: ignore[call-overload]
                    service, region_name=region, config=RETRY_CONFIG, endpoint_url=self.endpoint_url
                )
            return self.clients[key]

    def _gap(self, region: str, what: str, service: str, operation: str, error: Exception) -> None:
        with self._lock:
            self._record_gap(region, what, service, operation, error)

    def _record_gap(self, region: str, what: str, service: str, operation: str, error: Exception) -> None:
        if isinstance(error, ClientError):
            code = str(error.response.get("Error", {}).get("Code", ""))
            message = str(error.response.get("Error", {}).get("Message", ""))
            if code in DENIED_CODES:
                self.coverage.add(
                    Gap("aws", region, what, iam_action(service, operation), f"access denied ({code})")
                )
                return
            if code in THROTTLING_CODES:
                reason = f"still throttled after {MAX_ATTEMPTS} attempts ({code})"
                self.coverage.add(Gap("aws", region, what, "", reason))
                return
            self.coverage.add(Gap("aws", region, what, "", f"{code}: {message}".strip(": ")))
            return
        self.coverage.add(Gap("aws", region, what, "", f"{type(error).__name__}: {error}"))

    def call(
        self,
        service: str,
        region: str,
        operation: str,
        what: str,
        *,
        absent: Iterable[str] = (),
        role: str = "",
        **params: Any,
    ) -> dict[str, Any]:
        """One read; raises :class:`UnreadableError` after recording the gap; ``{}`` when absent."""
        client = self.client(service, region, role)
        method = getattr(client, _snake(operation))
        try:
            result: dict[str, Any] = method(**params)
            return result
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in absent:
                return _ABSENT
            raise_on_credentials(error)
            self._gap(region, what, service, operation, error)
            raise UnreadableError from error
        except (EndpointConnectionError, BotoCoreError) as error:
            raise_on_credentials(error)
            self._gap(region, what, service, operation, error)
            raise UnreadableError from error

    def pages(
        self, service: str, region: str, operation: str, key: str, what: str, **params: Any
    ) -> list[Any]:
        client = self.client(service, region)
        items: list[Any] = []
        try:
            if client.can_paginate(_snake(operation)):
                for page in client.get_paginator(_snake(operation)).paginate(**params):
                    items.extend(page.get(key, []))
            else:
                items.extend(getattr(client, _snake(operation))(**params).get(key, []))
        except (ClientError, BotoCoreError) as error:
            raise_on_credentials(error)
            self._gap(region, what, service, operation, error)
            raise UnreadableError from error
        return items

    def add(
        self, type_token: str, name: str, region: str | None, properties: dict[str, Any], *, ident: str = ""
    ) -> Resource:
        qualified = name if region is None or type_token.startswith("aws:s3/") else f"{region}/{name}"
        urn = f"urn:pulumi:{self.stack_name}::{PROJECT}::{type_token}::{qualified}"
        resource = Resource(
            type=type_token,
            name=name,
            urn=urn,
            properties={k: v for k, v in properties.items() if v is not None},
            provider="aws",
            region=region,
            id=ident or name,
        )
        with self._lock:
            self.resources.append(resource)
        return resource

    def not_read(self, arn: str) -> None:
        """Records a resource the tag sweep saw and no reader read in detail."""
        with self._lock:
            self.coverage.not_read.append(arn)

    # -- account ----------------------------------------------------------------------------------

    def identity(self) -> str:
        """The account id (STS); raises :class:`CredentialError` with what to do."""
        try:
            client = self.client("sts", self.session.region_name or HOME_REGION)
            self.account = str(cast(Any, client).get_caller_identity()["Account"])
        except ClientError as error:
            raise_on_credentials(error)
            raise CredentialError(f"cannot identify the account: {error}") from error
        except (NoCredentialsError, PartialCredentialsError, ProfileNotFound, TokenRetrievalError) as error:
            raise_on_credentials(error)
        except (BotoCoreError, ResponseParserError, KeyError, TypeError) as error:
            # An unreachable endpoint, or one that does not answer as AWS STS does.
            where = self.endpoint_url or "AWS"
            raise VerifyError(
                f"cannot identify the account at {where}: {' '.join(str(error).split())}"
            ) from error
        if not self.stack_name:
            self.stack_name = f"live-aws-{self.account}"
        return self.account

    def regions(self, wanted: str | Sequence[str]) -> tuple[list[str], list[str]]:
        """(regions to read in detail, every enabled region for the tagging sweep)."""
        home = self.session.region_name or HOME_REGION
        known: list[str] = []
        enabled: list[str] = []
        try:
            everything = self.call("ec2", home, "DescribeRegions", "region list", AllRegions=True)["Regions"]
            known = sorted(r["RegionName"] for r in everything)
            enabled = sorted(
                r["RegionName"]
                for r in everything
                if r.get("OptInStatus", "opt-in-not-required") != "not-opted-in"
            )
        except UnreadableError:
            known = enabled = sorted(self.session.get_available_regions("ec2"))
        if wanted == "all":
            return enabled, enabled
        chosen = list(dict.fromkeys(wanted))
        if not chosen:
            raise UnknownRegionError(
                "--regions: no region given; pass 'all' (every enabled region, the default) or a "
                "comma-separated list of region names"
            )
        unknown = [r for r in chosen if r not in known]
        if unknown:
            raise UnknownRegionError(
                f"unknown AWS region(s) {', '.join(unknown)}; known regions: {', '.join(known)}"
            )
        return chosen, enabled


def parse_arn(value: str) -> dict[str, str]:
    try:
        parsed: dict[str, str] = ArnParser().parse_arn(value)
    except ValueError:
        return {}
    return parsed


def _snake(operation: str) -> str:
    from botocore import xform_name

    return str(xform_name(operation))


def raise_on_credentials(error: Exception) -> None:
    """Turns a credential problem into a :class:`CredentialError` that says what to do."""
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        raise CredentialError(
            "no AWS credentials found: set AWS_PROFILE (or --profile), or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or run `aws sso login` for an SSO profile"
        ) from error
    if isinstance(error, ProfileNotFound):
        raise CredentialError(f"{error}: check --profile and ~/.aws/config") from error
    if isinstance(error, TokenRetrievalError):
        raise CredentialError(
            f"the SSO token could not be refreshed ({error}): run `aws sso login`"
        ) from error
    if isinstance(error, NoRegionError):
        raise CredentialError("no region configured: pass --regions or set AWS_REGION") from error
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in CREDENTIAL_CODES:
            hint = (
                "the session token has expired: refresh it (`aws sso login`, or a new `aws sts assume-role`)"
                if "Expired" in code or code == "RequestExpired"
                else "the access key is not valid for this account: check the profile's keys"
            )
            raise CredentialError(f"AWS rejected the credentials ({code}): {hint}") from error
