"""The booking platform's Pulumi components (AWS, Scaleway, S3NS, the French key store host).

``__version__`` is the installed distribution's version, read from its metadata: pyproject.toml is the
one place it is written. It follows semantic versioning; CHANGELOG.md says what each version changed.
"""

from importlib.metadata import version

__version__ = version("sovereign-booking")
