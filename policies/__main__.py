"""CrossGuard entry point: ``pulumi preview --policy-pack policies``.

The engine runs this file with policies/ as the working directory and the interpreter of
PulumiPolicy.yaml's virtualenv (../.venv), where the project is installed: ``policies`` imports from
there, as it does for ``python policies/__main__.py`` and ``python -m policies``.
"""

from __future__ import annotations

from policies.pack import serve

if __name__ == "__main__":
    serve()
