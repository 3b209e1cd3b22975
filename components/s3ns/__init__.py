"""SecNumCloud option of the booking blueprint: Cloud de Confiance by S3NS (PREMI3NS), u-france-east1,
every data store under a Cloud KMS key of its domain. Sources: docs/secnumcloud.md."""

from components.s3ns.args import S3nsBookingPlatformArgs, S3nsContainerSpec
from components.s3ns.platform import NO_CUSTOMER_KEY, S3nsBookingPlatform

__all__ = ["NO_CUSTOMER_KEY", "S3nsBookingPlatform", "S3nsBookingPlatformArgs", "S3nsContainerSpec"]
