"""Scaleway option of the booking blueprint: everything in fr-par, keys in Scaleway Key Manager."""

from components.scaleway.args import ScalewayBookingPlatformArgs, ScalewayContainerSpec
from components.scaleway.documents import tls_only_policy
from components.scaleway.platform import ScalewayBookingPlatform

__all__ = [
    "ScalewayBookingPlatform",
    "ScalewayBookingPlatformArgs",
    "ScalewayContainerSpec",
    "tls_only_policy",
]
