"""Lists the Scaleway products the live reader does not read in detail, so none of them passes unread.

Scaleway has no account-wide tag sweep like AWS's, so each product that can hold the platform's data
or run its code is listed per region or zone with its own read-only ``list_*`` call. Every resource
found enters the model as :data:`UNREAD` (type and id named), which BK-LIVE-005 fails unless an
exception covers its URN; a list call that fails is a gap (an incomplete audit), never an empty list.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

from policies.catalog import LIVE_UNREAD_SCALEWAY
from policies.inputs.live.errors import CredentialError, Gap

if TYPE_CHECKING:
    from policies.inputs.live.scaleway import ScalewayReader

#: A project resource of a product the reader does not read in detail: failed by BK-LIVE-005.
UNREAD: Final = LIVE_UNREAD_SCALEWAY

#: Zones of each region the reader knows (scaleway_core.bridge.zone.ALL_ZONES, plus it-mil-1).
ZONES: Final[Mapping[str, tuple[str, ...]]] = {
    "fr-par": ("fr-par-1", "fr-par-2", "fr-par-3"),
    "nl-ams": ("nl-ams-1", "nl-ams-2", "nl-ams-3"),
    "pl-waw": ("pl-waw-1", "pl-waw-2", "pl-waw-3"),
    "it-mil": ("it-mil-1",),
}


@dataclass(frozen=True)
class Listing:
    """One SDK list call whose every result is a resource the reader does not read in detail."""

    resource_type: str
    what: str
    scope: Literal["zone", "region"]
    api: str  # "module:Class" in the scaleway SDK
    method: str
    project_arg: str
    #: Key of the Scaleway IAM permission set the call needs (``scaleway.PERMISSION_SETS``).
    permission: str
    extra: Mapping[str, Any] = field(default_factory=dict)


_INSTANCE = "scaleway.instance.v1:InstanceV1API"
_BLOCK = "scaleway.block.v1alpha1:BlockV1Alpha1API"
_SECRET_MANAGER_API = "scaleway.secret.v1beta1:SecretV1Beta1API"  # noqa: S105 (an SDK class path, not a password)

LISTINGS: Final[tuple[Listing, ...]] = (
    Listing("instance:server", "Instances servers", "zone", _INSTANCE, "list_servers_all", "project", "instance"),
    Listing("instance:volume", "Instances volumes", "zone", _INSTANCE, "list_volumes_all", "project", "instance"),
    Listing(
        "instance:snapshot", "Instances snapshots", "zone", _INSTANCE, "list_snapshots_all", "project", "instance"
    ),
    Listing("block:volume", "Block Storage volumes", "zone", _BLOCK, "list_volumes_all", "project_id", "block"),
    Listing(
        "block:snapshot", "Block Storage snapshots", "zone", _BLOCK, "list_snapshots_all", "project_id", "block"
    ),
    Listing(
        "redis:cluster", "Redis clusters", "zone", "scaleway.redis.v1:RedisV1API", "list_clusters_all",
        "project_id", "redis",
    ),
    # A secret pending deletion still holds its versions: the API lists those only when asked.
    Listing(
        "secret:secret", "Secret Manager secrets", "region", _SECRET_MANAGER_API, "list_secrets_all", "project_id",
        "secret", {"scheduled_for_deletion": False},
    ),
    Listing(
        "secret:secret", "Secret Manager secrets pending deletion", "region", _SECRET_MANAGER_API, "list_secrets_all",
        "project_id", "secret", {"scheduled_for_deletion": True},
    ),
    Listing(
        "container:namespace", "Serverless Containers namespaces", "region",
        "scaleway.container.v1beta1:ContainerV1Beta1API", "list_namespaces_all", "project_id", "container",
    ),
    Listing(
        "function:namespace", "Serverless Functions namespaces", "region",
        "scaleway.function.v1beta1:FunctionV1Beta1API", "list_namespaces_all", "project_id", "function",
    ),
)  # fmt: skip


def product_apis(reader: ScalewayReader) -> dict[str, Any]:
    """One guarded (GET-only, retrying) SDK API object per product listed."""
    from policies.inputs.live.scaleway import read_only_api

    apis: dict[str, Any] = {}
    for spec in {listing.api for listing in LISTINGS}:
        module, name = spec.split(":")
        try:
            api = getattr(importlib.import_module(module), name)(reader.client)
        except ValueError as error:  # the SDK's own credential format checks
            raise CredentialError(f"Scaleway credentials are not valid: {error}") from error
        apis[spec] = read_only_api(api, sleep=reader.sleep, counter=reader.coverage)
    return apis


def read_unread_products(reader: ScalewayReader, apis: Mapping[str, Any], region: str) -> None:
    """Adds every project resource of :data:`LISTINGS` in ``region`` (all its zones) as :data:`UNREAD`."""
    from policies.inputs.live.scaleway import UnreadableError

    for listing in LISTINGS:
        places = ZONES.get(region, ()) if listing.scope == "zone" else (region,)
        for place in places:
            with contextlib.suppress(UnreadableError):
                _list(reader, apis[listing.api], listing, region, place)


def _list(reader: ScalewayReader, api: Any, listing: Listing, region: str, place: str) -> None:
    from policies.inputs.live.scaleway import UnreadableError

    what = f"{listing.what} in {place}" if listing.scope == "zone" else listing.what
    kwargs = {listing.scope: place, listing.project_arg: reader.project_id, **listing.extra}
    call = getattr(api, listing.method)
    try:
        items = reader.guarded(listing.permission, region, what, lambda: call(**kwargs))
    except (TypeError, KeyError, AttributeError) as error:  # an answer the SDK cannot unmarshal
        reader.coverage.add(Gap("scaleway", region, what, "", f"unexpected answer ({error})"))
        raise UnreadableError from error
    for item in items:
        ident = f"{place}/{item.id}"
        reader.coverage.not_read.append(f"{listing.resource_type} {ident}")
        reader.add(
            UNREAD,
            f"{listing.resource_type}/{item.id}",
            region,
            {"resourceType": listing.resource_type, "name": getattr(item, "name", None), "location": place},
            ident=ident,
        )
