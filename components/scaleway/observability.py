"""``Observability``: Cockpit data sources for application logs and metrics."""

from __future__ import annotations

import pulumi
import pulumiverse_scaleway as scw

from components.scaleway.args import ScalewayBookingPlatformArgs
from components.scaleway.common import TYPE_PREFIX


class Observability(pulumi.ComponentResource):
    """Cockpit in fr-par: data sources for the application's logs and metrics, and a push token.

    # NO-CUSTOMER-KEY: Cockpit stores logs and metrics under Scaleway-managed encryption; no Key
    # Manager key can be attached. Applications must not log health data (pseudonymous ids only).
    """

    no_customer_key: tuple[str, ...] = ("cockpit-logs", "cockpit-metrics")

    def __init__(self, name: str, args: ScalewayBookingPlatformArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__(f"{TYPE_PREFIX}:Observability", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.logs = scw.observability.Source(
            f"{name}-logs",
            name=f"{args.name_prefix}-logs",
            type="logs",
            retention_days=args.log_retention_days,
            region=args.region,
            project_id=args.project_id,
            opts=child,
        )
        self.metrics = scw.observability.Source(
            f"{name}-metrics",
            name=f"{args.name_prefix}-metrics",
            type="metrics",
            retention_days=args.metrics_retention_days,
            region=args.region,
            project_id=args.project_id,
            opts=child,
        )
        # Write-only token for the containers: they can push, not read anyone's logs back.
        self.token = scw.observability.Token(
            f"{name}-push-token",
            name=f"{args.name_prefix}-push",
            region=args.region,
            project_id=args.project_id,
            scopes=scw.observability.TokenScopesArgs(
                write_logs=True,
                write_metrics=True,
                query_logs=False,
                query_metrics=False,
                query_traces=False,
                write_traces=False,
                setup_alerts=False,
                setup_logs_rules=False,
                setup_metrics_rules=False,
            ),
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["secret_key"]),
        )
        self.register_outputs(
            {
                "logs_push_url": self.logs.push_url,
                "metrics_push_url": self.metrics.push_url,
                "no_customer_key": list(self.no_customer_key),
            }
        )
