"""Facts both sides of the project share, each defined once.

A leaf: it imports nothing of the project, so the Pulumi components and stacks (``components``,
``stacks``), the policies (``policies``) and the comparison (``reporting``) may all import it without
breaking the layering (components never import policies, policies never import components).
``xks_proxy`` stays standalone and keeps its own copy of the XKS wire limits it serves.

* :mod:`facts.providers`: provider packages, their regions and their HDS / SecNumCloud allow-lists,
  read from ``data/facts/providers.yaml`` (the sourced file the comparison report cites);
* :mod:`facts.tokens`: the Pulumi type tokens more than one module names;
* :mod:`facts.xks`: AWS KMS external key store limits (URI path, credentials, connectivity);
* :mod:`facts.aws`: AWS constraints of Option A (key-policy principals and conditions per key use,
  shared account resources, key store update and deletion preconditions), read from
  ``data/facts/aws.yaml``;
* :mod:`facts.domains`: the data domains, one key each.
"""
