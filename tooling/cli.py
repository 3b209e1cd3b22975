"""The contract every command-line tool keeps.

* Exit codes (:class:`Exit`): 0 pass, 1 a mandatory rule fails, 2 bad input or usage, 3 incomplete
  read, 4 internal error. A CI gate can tell a finding from a crash.
* No traceback reaches the user: bad input is one line naming the field or path and what is allowed;
  anything unexpected is one line too, and ``--debug`` shows the traceback.
* Output paths are checked before any long work, and every file is written atomically (a temporary
  file in the same folder, renamed over the target), so a failure leaves nothing half-written.

This module is a leaf: policies, reporting and the scripts import it; it imports nothing of theirs.
"""

from __future__ import annotations

import argparse
import contextlib
import enum
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, NoReturn


class Exit(enum.IntEnum):
    PASS = 0
    FINDING = 1
    BAD_INPUT = 2
    INCOMPLETE = 3
    INTERNAL = 4


#: The contract as every --help prints it.
EXIT_CODES_HELP = (
    "exit status: 0 pass; 1 a mandatory rule fails; 2 bad input or usage; 3 incomplete read; "
    "4 internal error (no traceback unless --debug)"
)


class BadInputError(Exception):
    """Input or usage the tool refuses (exit 2); the message names the field or path and what is allowed."""


def one_line(message: object) -> str:
    """A message on one line: tracebacks and multi-line parser messages are folded."""
    return " ".join(str(message).split())


class Parser(argparse.ArgumentParser):
    """argparse with the contract: ``--debug``, the exit codes in ``--help``, one-line usage errors."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        epilog = kwargs.get("epilog")
        kwargs["epilog"] = f"{epilog}\n\n{EXIT_CODES_HELP}" if epilog else EXIT_CODES_HELP
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.add_argument("--debug", action="store_true", help="show the traceback of an internal error")

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {one_line(message)} (see --help)", file=sys.stderr)
        raise SystemExit(Exit.BAD_INPUT)


def run(
    prog: str,
    main: Callable[[], int],
    *,
    debug: bool,
    bad_input: tuple[type[BaseException], ...] = (),
) -> int:
    """Runs ``main`` under the contract: known bad input -> 2, anything else -> 4, one line each."""
    refused: tuple[type[BaseException], ...] = (BadInputError, *bad_input)
    try:
        return int(main())
    except refused as error:
        if debug:
            traceback.print_exc()
        print(f"{prog}: error: {one_line(error)}", file=sys.stderr)
        return Exit.BAD_INPUT
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return Exit.INTERNAL
    except Exception as error:  # the contract: no traceback reaches the user
        if debug:
            traceback.print_exc()
        print(
            f"{prog}: internal error: {type(error).__name__}: {one_line(error)} (run with --debug for details)",
            file=sys.stderr,
        )
        return Exit.INTERNAL


def _probe_writable(folder: Path, what: str) -> None:
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            pass
    except OSError as error:
        raise BadInputError(f"{what} {folder}: not writable ({error.strerror or error})") from error


def check_out_dir(path: Path, what: str = "--out") -> Path:
    """Creates the output folder if needed and proves it writable, before any long work."""
    if path.exists() and not path.is_dir():
        raise BadInputError(f"{what} {path}: is a file, an output folder is expected")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BadInputError(f"{what} {path}: cannot create the folder ({error.strerror or error})") from error
    _probe_writable(path, what)
    return path


def check_out_file(path: Path, what: str = "--out") -> Path:
    """Checks an output file can be written (its folder exists or can be made, and is writable)."""
    if path.is_dir():
        raise BadInputError(f"{what} {path}: is a folder, an output file is expected")
    check_out_dir(path.parent if str(path.parent) else Path("."), what)
    return path


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


@contextlib.contextmanager
def atomic_writer(path: Path, mode: str = "w") -> Iterator[IO[str]]:
    """A file handle whose content replaces ``path`` only when the block succeeds.

    The temporary file sits in the target's folder (so the rename is atomic) and is removed on any
    failure, including an interrupt.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below on every path
        mode, dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False, encoding="utf-8"
    )
    try:
        with handle:
            yield handle
        # mkstemp makes the file private (0600); a report is an ordinary file, as open() would make it.
        os.chmod(handle.name, 0o666 & ~_UMASK)
        os.replace(handle.name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        raise


def atomic_write_text(path: Path, text: str) -> Path:
    with atomic_writer(path) as handle:
        handle.write(text)
    return path


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """``data`` replaces ``path`` in one rename; on any failure nothing is left behind."""
    if not isinstance(data, bytes | bytearray):
        raise TypeError(f"bytes expected, not {type(data).__name__}")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise BadInputError(f"{what} {path}: no such file") from error
    except IsADirectoryError as error:
        raise BadInputError(f"{what} {path}: is a folder, a file is expected") from error
    except UnicodeDecodeError as error:
        raise BadInputError(
            f"{what} {path}: not UTF-8 text (byte {error.start}); a text file is expected"
        ) from error
    except OSError as error:
        raise BadInputError(f"{what} {path}: cannot read ({error.strerror or error})") from error


def read_yaml(path: Path, what: str) -> object:
    """A YAML file's document; a syntax error names the file, line and column (1-based)."""
    import yaml

    text = _read_text(path, what)
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = error.problem or error.context or "invalid YAML"
        raise BadInputError(f"{what} {where}: YAML syntax error: {problem}") from error
    except yaml.YAMLError as error:
        raise BadInputError(f"{what} {path}: YAML error: {one_line(error)}") from error


def read_json(path: Path, what: str) -> object:
    """A JSON file's document; a syntax error names the file, line and column."""
    import json

    text = _read_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise BadInputError(
            f"{what} {path}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}"
        ) from error
