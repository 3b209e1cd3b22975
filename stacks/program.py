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
    if cfg.target == "aws":
        from stacks import aws_stack

        aws_stack.build(cfg)
    elif cfg.target == "s3ns":
        from stacks import s3ns_stack

        s3ns_stack.build(cfg)
    else:
        from stacks import scaleway_stack

        scaleway_stack.build(cfg)
    pulumi.export("target", cfg.target)
    pulumi.export("region", cfg.region)
