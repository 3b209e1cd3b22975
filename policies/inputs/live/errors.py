"""Errors and coverage of a live read: what stops the run, and what could not be checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

#: Error codes meaning the credentials themselves are missing, wrong or expired: the run stops.
CREDENTIAL_CODES: Final = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "RequestExpired",
        "AuthFailure",
        "TokenRefreshRequired",
    }
)
#: Error codes meaning one permission is missing: that part is reported as not checked.
DENIED_CODES: Final = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthorizationError",
        "Forbidden",
        "AllAccessDisabled",
        "OptInRequired",
    }
)
#: Throttling codes botocore retries; seen here only when every retry was throttled too.
THROTTLING_CODES: Final = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "PriorRequestNotComplete",
    }
)


class VerifyError(Exception):
    """A condition that stops the whole run (exit status 2), with a message saying what to do."""


class CredentialError(VerifyError):
    """Missing, invalid or expired credentials."""


class UnknownRegionError(VerifyError):
    """A region asked for on the command line does not exist for the provider."""


@dataclass(frozen=True)
class Gap:
    """One part of the account that could not be read, and why."""

    provider: str
    region: str
    what: str
    #: The permission (IAM action, Scaleway permission set) that was missing, when that is the cause.
    permission: str
    reason: str

    def describe(self) -> str:
        need = f" (missing permission {self.permission})" if self.permission else ""
        return f"{self.provider} {self.region}: {self.what} not checked: {self.reason}{need}"

    def to_dict(self) -> dict[str, str]:
        return {
            "provider": self.provider,
            "region": self.region,
            "what": self.what,
            "permission": self.permission,
            "reason": self.reason,
        }


@dataclass
class Coverage:
    """What the read covered: regions, calls made, retries, and the gaps."""

    regions: list[str] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    #: Resources seen (tagging API) but not read in detail, in allowed regions: listed, not judged.
    not_read: list[str] = field(default_factory=list)
    calls: int = 0
    retries: int = 0

    def add(self, gap: Gap) -> None:
        self.gaps.append(gap)
