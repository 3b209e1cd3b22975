"""Where the shipped data files are: the one place that locates ``data/`` (the package data).

The facts and prices ship inside the wheel as the ``data`` package; :mod:`importlib.resources` finds
them in the checkout (editable install) and in another project's environment alike, so no reader
computes a path from its own ``__file__``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

#: The import package that carries ``facts/*.yaml`` and ``prices/*.yaml``.
DATA_PACKAGE = "data"


class DataNotFoundError(LookupError):
    """The data package is missing or not on a file system: the message says which and why."""


def data_dir() -> Path:
    """The directory of the shipped data files (``facts/``, ``prices/``).

    A wheel installed by pip or uv is unpacked on disk; a zipped import (zipapp, egg) is refused
    rather than half-read, because the readers glob and report real file paths.
    """
    try:
        root = files(DATA_PACKAGE)
    except ModuleNotFoundError as error:
        raise DataNotFoundError(
            f"package data {DATA_PACKAGE!r} is not installed: reinstall sovereign-booking (its wheel ships it)"
        ) from error
    if not isinstance(root, Path) or not (root / "facts").is_dir():
        raise DataNotFoundError(
            f"package data {DATA_PACKAGE!r} at {root}: must be a directory holding facts/ and prices/ "
            "(install the wheel unpacked, not zipped)"
        )
    return root


def read_model(path: Path, model: type[M], error: type[Exception]) -> M:
    """``path`` read as YAML and validated by ``model``: the one reader every facts file goes through.

    Any problem is one ``error`` whose message names the file and the first offending field.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as problem:
        raise error(f"{path}: cannot be read as YAML ({problem})") from problem
    try:
        return model.model_validate(raw)
    except ValidationError as invalid:
        first = invalid.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top)"
        raise error(f"{path}: {where}: {first['msg']}") from invalid
