"""Enforcement point 4: a live, read-only read of a cloud account into the policies' resource model.

``policies.inputs.live.aws`` reads an AWS account with boto3, ``policies.inputs.live.scaleway`` a Scaleway project
with the Scaleway SDK; both produce a :class:`policies.model.Stack` whose resources carry pulumi-aws /
pulumiverse-scaleway type tokens and property names, so the same rules fire as at preview and audit.
``policies.inputs.live.guard`` makes every read session read-only by construction.
"""
