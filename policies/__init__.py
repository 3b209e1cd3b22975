"""Policy-as-code for the sovereign booking platform.

One rule set, written once over a small provider-neutral resource model (``policies.model``), run at
every enforcement point: tests over the offline preview, the CrossGuard pack at deploy time
(``policies/__main__.py``), audits of ``pulumi stack export`` / ``pulumi preview --json`` files
(``scripts/audit.py``), and checkov over an exported Terraform plan (``policies.terraform_plan``).
"""
