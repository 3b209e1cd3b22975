"""Reads a live AWS account into the policies' resource model (enforcement point 4).

Every API shape is mapped to the pulumi-aws type token and (camelCase) property names the rules
read, so the rules that judge a preview judge the live account too. Properties that only a live
read can know (``keyState``, ``origin``, ``connectionState``, ``sharedAccounts``) keep their API
meaning under camelCase names; the live-only rules in ``policies/rules/live/`` read them.

Nothing unread passes. By default every enabled region is read in detail by every per-service
reader (which lists its resources whether tagged or not); then the tagging API sweeps every enabled
region, and each resource it shows that no reader read in detail (a service the readers do not
know, or a region left out by ``--regions``) enters the model as :data:`TAGGED`, which BK-LIVE-005
fails (and BK-REGION-001 too when it sits outside the allowed regions).

Reads run concurrently: one task per (region, service reader), plus S3 and one tag sweep per region,
on a bounded thread pool (``workers``; 1 reads one call after another). botocore clients are
thread-safe; each task uses its own sequence of calls, so a read gives the same model whatever the
order the tasks finish in (resources, gaps and unread ARNs are sorted at the end). Throttling is
retried by botocore's standard retry mode (``guard.RETRY_CONFIG``) and counted.

Plumbing (guarded clients, gaps, credentials) is in :mod:`policies.inputs.live.aws_client`; each service
has its reader and shape mappers in ``aws_<service>.py``.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Final

from policies.catalog import LIVE_UNREAD_AWS
from policies.inputs.live.aws_client import HOME_REGION, AwsClient, UnreadableError, parse_arn
from policies.inputs.live.aws_kms import read_kms
from policies.inputs.live.aws_logs_secrets_backup import read_backup, read_logs, read_secrets
from policies.inputs.live.aws_network import read_load_balancers, read_security_groups, read_task_definitions
from policies.inputs.live.aws_rds import read_rds
from policies.inputs.live.aws_s3 import read_s3
from policies.inputs.live.aws_storage import read_dynamodb, read_ebs, read_efs
from policies.model import Stack

#: A resource the tag sweep shows and no reader read in detail: failed by BK-LIVE-005.
TAGGED: Final = LIVE_UNREAD_AWS

#: Per-region readers, in order. Each lists its service's resources, tagged or not.
REGIONAL_READERS: Final[tuple[Callable[[AwsClient, str], None], ...]] = (
    read_kms,
    read_rds,
    read_logs,
    read_secrets,
    read_backup,
    read_ebs,
    read_efs,
    read_dynamodb,
    read_security_groups,
    read_load_balancers,
    read_task_definitions,
)

__all__ = [
    "DEFAULT_WORKERS",
    "HOME_REGION",
    "REGIONAL_READERS",
    "TAGGED",
    "AwsReader",
    "policy_document_text",
]

#: Concurrent reads by default: enough to hide tens of milliseconds per call across regions and
#: services, few enough to stay well under AWS's per-account request rates (throttling is retried).
DEFAULT_WORKERS: Final = 16


@dataclass
class AwsReader(AwsClient):
    """Reads one AWS account; ``read()`` returns the model and what could not be checked."""

    #: Reads in flight at once (1: one after another).
    workers: int = DEFAULT_WORKERS

    def read(self, wanted: str | Sequence[str] = "all") -> Stack:
        """Reads the account: S3 once and every region in detail, then every enabled region's tags."""
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1 (got {self.workers})")
        self.identity()
        detail, sweep = self.regions(wanted)
        self.coverage.regions = detail
        self.progress(
            f"account {self.account}: reading {len(detail)} region(s) in detail, tags in {len(sweep)}, "
            f"{self.workers} read(s) at a time"
        )
        # The tag sweep's calls run beside the detailed reads; what they found is judged once every
        # detailed read is done, since a tagged resource is "unread" only if no reader read its ARN.
        tagged: dict[str, list[Any]] = {}
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="aws-read") as pool:
            self._read_in_detail(pool, detail, [(f"tags@{r}", _fetch_tags(self, r, tagged)) for r in sweep])
        self.progress(f"tags: {len(sweep)} region(s) swept")
        for region in sweep:
            _add_unread(self, region, tagged.get(region, []))
        with self._lock:
            # Tasks finish in any order: sort so that a parallel read equals a serial one.
            resources = sorted(self.resources, key=lambda r: r.urn)
            self.coverage.gaps.sort(key=lambda g: (g.region, g.what, g.permission, g.reason))
            self.coverage.not_read.sort()
        config: dict[str, Any] = {
            "aws:region": self.allowed_regions[0] if self.allowed_regions else HOME_REGION,
        }
        return Stack(self.stack_name, resources, config, gaps=tuple(self.coverage.gaps), kind="live")

    def _read_in_detail(
        self, pool: ThreadPoolExecutor, detail: Sequence[str], more: list[tuple[str, Callable[[], None]]]
    ) -> None:
        """S3 (global), every (region, reader) pair and ``more``; a progress line per region when it is done."""
        tasks: list[tuple[str, Callable[[], None]]] = [("s3", lambda: _quietly(read_s3, self))]
        for region in detail:
            tasks += [(region, _step_task(step, self, region)) for step in REGIONAL_READERS]
        left = Counter(key for key, _ in tasks)
        finished = [0]

        def done(key: str) -> None:
            with self._lock:
                left[key] -= 1
                if key not in detail or left[key]:
                    return
                finished[0] += 1
                found = sum(1 for r in self.resources if r.region == key)
            self.progress(f"[{finished[0]}/{len(detail)}] {key}: {found} resource(s)")

        _run_all(pool, tasks + more, done)


def _quietly(step: Callable[[AwsClient], None], aws: AwsClient) -> None:
    with contextlib.suppress(UnreadableError):  # recorded as a gap by the client
        step(aws)


def _step_task(step: Callable[[AwsClient, str], None], aws: AwsClient, region: str) -> Callable[[], None]:
    def task() -> None:
        with contextlib.suppress(UnreadableError):  # recorded as a gap by the client
            step(aws, region)

    return task


def _fetch_tags(aws: AwsClient, region: str, into: dict[str, list[Any]]) -> Callable[[], None]:
    def task() -> None:
        with contextlib.suppress(UnreadableError):  # recorded as a gap by the client
            found = aws.pages(
                "resourcegroupstaggingapi",
                region,
                "GetResources",
                "ResourceTagMappingList",
                "tagged resources",
            )
            with aws._lock:
                into[region] = found

    return task


def _run_all(
    pool: ThreadPoolExecutor,
    tasks: Sequence[tuple[str, Callable[[], None]]],
    done: Callable[[str], None] | None = None,
) -> None:
    """Runs the tasks on the pool and waits; the first error that is not a gap stops the read.

    A credential error or a bug raised in a worker reaches the caller as it would in a serial read
    (the tasks not started yet are cancelled), so no half-read account is ever judged.
    """
    futures: dict[Future[None], str] = {pool.submit(task): key for key, task in tasks}
    if done is not None:
        for future, key in futures.items():
            future.add_done_callback(_when_read(done, key))
    finished, pending = wait(futures, return_when=FIRST_EXCEPTION)
    failed = [f for f in finished if f.exception() is not None]
    if failed:
        for future in pending:
            future.cancel()
        wait(pending)
        raise failed[0].exception()  # type: ignore[misc]


def _when_read(done: Callable[[str], None], key: str) -> Callable[[Future[None]], None]:
    def callback(future: Future[None]) -> None:
        if not future.cancelled() and future.exception() is None:
            done(key)

    return callback


def _add_unread(aws: AwsClient, region: str, mappings: Sequence[Any]) -> None:
    """Every tagged resource no reader read in detail becomes a :data:`TAGGED` resource."""
    for mapping in mappings:
        arn = mapping.get("ResourceARN", "")
        parsed = parse_arn(arn)
        if not parsed or arn in aws.arns or arn.removesuffix(":*") in aws.arns:
            continue
        kind, name = _resource_kind(parsed)
        aws.not_read(arn)
        aws.add(
            TAGGED,
            name,
            parsed.get("region") or region,
            {
                "arn": arn,
                "resourceType": parsed["service"]
                if kind == parsed["service"]
                else f"{parsed['service']}:{kind}",
                "tags": {t["Key"]: t.get("Value", "") for t in mapping.get("Tags", [])},
            },
            ident=arn,
        )


def _resource_kind(parsed: Mapping[str, str]) -> tuple[str, str]:
    """(resource type, name) from an ARN's resource part: ``db:booking`` -> (``db``, ``booking``)."""
    resource = parsed.get("resource", "")
    cuts = [i for i in (resource.find("/"), resource.find(":")) if i >= 0]
    if cuts:
        return resource[: min(cuts)], resource[min(cuts) + 1 :]
    return parsed.get("service", ""), resource


def policy_document_text() -> str:
    from policies.inputs.live.guard import policy_document

    return json.dumps(policy_document(), indent=2) + "\n"
