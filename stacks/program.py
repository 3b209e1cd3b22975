"""The Pulumi program: read the validated config, then build the platform for its target."""

from __future__ import annotations

import pulumi

from stacks import config


def main() -> None:
    if pulumi.Config(config.NAMESPACE).get("target") == "keystore":
        # The French key store host has its own configuration (components/keystore/config.py).
        from stacks import keystore_stack

        keystore_stack.build()
        pulumi.export("target", "keystore")
        return
    # Validation happens here, before any resource exists: a bad value stops the program whole.
    cfg = config.load()
    if isinstance(cfg, config.AwsStackSettings):
        from stacks import aws_stack

        aws_stack.build(cfg)
    elif cfg.target == "s3ns":
        from stacks import s3ns_stack
        from stacks.s3ns_config import S3nsStackSettings

        assert isinstance(cfg, S3nsStackSettings)  # MODELS maps the s3ns target to this model

        s3ns_stack.build(cfg)
    else:
        from stacks import scaleway_stack

        scaleway_stack.build(cfg)
    pulumi.export("target", cfg.target)
    pulumi.export("region", cfg.region)
