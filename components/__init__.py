"""The booking platform's Pulumi components (AWS, Scaleway, S3NS, the French key store host).

``__version__`` is the distribution's version, defined here once (pyproject reads it through hatch);
it follows semantic versioning and CHANGELOG.md says what each version changed.
"""

__version__ = "0.2.0"
