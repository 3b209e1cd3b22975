"""The PKCS#11 library as one process-wide resource: every call shares it, a reset (C_Finalize) owns it.

C_Finalize frees every session and object of the module: a thread still inside any C_* call then
runs on freed memory (a segfault, not an error). The module is loaded once per process whoever loads
it (dlopen returns the same instance), so the rule is process-wide: every thread holds
``LIBRARY_GATE.call()`` around its calls into the module, and C_Finalize/C_Initialize run only under
``LIBRARY_GATE.reset()``, which lets no new call in and waits for the calls in flight to leave. If
they do not leave in time (a hung HSM call cannot be interrupted), the reset is refused: the library
is never finalised under a running call.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager

CKF_OS_LOCKING_OK = 0x00000002


class LibraryUnavailable(Exception):  # noqa: N818 - named like hsm.HsmUnavailable, its subclass
    """The PKCS#11 library cannot be (re)initialised right now."""


class LibraryGate:
    """A readers-writer gate: shared for C_* calls, exclusive (with a deadline) for a reset."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._inside = 0
        self._resets_waiting = 0
        self._resetting = False

    @property
    def calls_inside(self) -> int:
        return self._inside

    @contextmanager
    def call(self) -> Iterator[None]:
        with self._cond:
            # A waiting reset goes first, or a busy pool would starve it forever.
            self._cond.wait_for(lambda: not self._resetting and not self._resets_waiting)
            self._inside += 1
        try:
            yield
        finally:
            with self._cond:
                self._inside -= 1
                if not self._inside:
                    self._cond.notify_all()

    @contextmanager
    def reset(self, drain_timeout_s: float) -> Iterator[None]:
        with self._cond:
            self._resets_waiting += 1
            try:
                drained = self._cond.wait_for(
                    lambda: self._inside == 0 and not self._resetting, drain_timeout_s
                )
                if drained:
                    self._resetting = True
            finally:
                self._resets_waiting -= 1
                self._cond.notify_all()
            if not drained:
                raise LibraryUnavailable(
                    f"{self._inside} PKCS#11 call(s) still running after {drain_timeout_s:g} s: "
                    "not finalising the library under them"
                )
        try:
            yield
        finally:
            with self._cond:
                self._resetting = False
                self._cond.notify_all()


LIBRARY_GATE = LibraryGate()


class _InitArgs(ctypes.Structure):
    _fields_ = (
        ("CreateMutex", ctypes.c_void_p),
        ("DestroyMutex", ctypes.c_void_p),
        ("LockMutex", ctypes.c_void_p),
        ("UnlockMutex", ctypes.c_void_p),
        ("flags", ctypes.c_ulong),
        ("pReserved", ctypes.c_void_p),
    )


def reinitialize_for_threads_unguarded(module: str) -> None:
    """C_Finalize, then C_Initialize with CKF_OS_LOCKING_OK. Only under ``LIBRARY_GATE.reset()``.

    python-pkcs11 calls ``C_Initialize(NULL)``, which per PKCS#11 promises the module that it will
    never be called from two threads at once; SoftHSM2 then drops its locks, and concurrent sessions
    corrupt each other (measured: CKR_GENERAL_ERROR under load). The module is already loaded, so
    dlopen returns the same instance: finalize it and initialize it again, thread-safe.
    """
    so = ctypes.CDLL(module)
    so.C_Finalize.argtypes = [ctypes.c_void_p]
    so.C_Initialize.argtypes = [ctypes.c_void_p]
    so.C_Finalize(None)
    args = _InitArgs(None, None, None, None, CKF_OS_LOCKING_OK, None)
    rv = so.C_Initialize(ctypes.byref(args))
    if rv != 0:
        raise LibraryUnavailable(f"C_Initialize(CKF_OS_LOCKING_OK) failed: 0x{rv:x}")
