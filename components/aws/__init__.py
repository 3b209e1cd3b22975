"""The AWS option: the booking platform in eu-west-3 with keys in a French external key store."""

from components.aws.keys import XksKeyStoreArgs
from components.aws.platform import AwsBookingPlatform, AwsBookingPlatformArgs
from components.aws.service import ContainerSpec

__all__ = ["AwsBookingPlatform", "AwsBookingPlatformArgs", "ContainerSpec", "XksKeyStoreArgs"]
