"""Policy-as-code for the sovereign booking platform.

One rule set, written once over a small provider-neutral resource model (``policies.model``), run at
every enforcement point. The package reads as its pipeline:

* ``policies.inputs``: offline preview, stack export, CrossGuard arguments, live readers
  (``inputs.live``) and the model embedded in an exported plan (``inputs.plan``) -> ``Stack``;
* ``policies.model``: the provider-neutral ``Stack`` and ``Resource``;
* ``policies.rules``: one rule per file; provider key resolution in ``rules._keys``;
* ``policies.outputs``: JUnit, SARIF, HTML, findings JSON, and the Terraform-plan export for checkov;
* ``policies.checkov``: the checkov runner and the custom checks that call the rules;
* the CrossGuard pack (``PulumiPolicy.yaml``, ``__main__.py``, ``pack.py``) and the audit (``audit.py``).
"""
