"""The sourced facts (``facts/*.yaml``) and prices (``prices/*.yaml``), shipped as package data.

This package holds no code: it exists so that the YAML files travel inside the wheel and are found with
:mod:`importlib.resources` wherever the project is installed (editable in the checkout, or a wheel in
another project's environment). Read them through :func:`facts.resources.data_dir`, never by a path
computed from ``__file__``.
"""
