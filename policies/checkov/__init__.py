"""checkov cross-check: custom checks that call the project's rules, and the list of skipped built-ins."""
