"""The PKCS#11 library gate: no C_Finalize while any thread of the process is inside the library."""

from __future__ import annotations

import threading
import time

import pytest

from xks_proxy.library import LibraryGate, LibraryUnavailable


def test_reset_waits_for_the_call_in_flight_and_holds_new_calls() -> None:
    gate = LibraryGate()
    inside, leave = threading.Event(), threading.Event()
    order: list[str] = []

    def call(name: str, hold: threading.Event | None) -> None:
        with gate.call():
            order.append(f"{name} in")
            if hold is not None:
                inside.set()
                hold.wait(10)
            order.append(f"{name} out")

    first = threading.Thread(target=call, args=("first", leave))
    first.start()
    assert inside.wait(10)
    resetting = threading.Event()

    def reset() -> None:
        resetting.set()
        with gate.reset(10):
            order.append("reset")

    resetter = threading.Thread(target=reset)
    resetter.start()
    assert resetting.wait(10)
    time.sleep(0.05)  # let the reset start waiting: it must not run while "first" is inside
    late = threading.Thread(target=call, args=("late", None))
    late.start()
    time.sleep(0.05)
    assert order == ["first in"]  # neither the reset nor the late call ran
    leave.set()
    for t in (first, resetter, late):
        t.join(10)
    assert order == ["first in", "first out", "reset", "late in", "late out"]


def test_reset_is_refused_while_a_call_never_leaves() -> None:
    gate = LibraryGate()
    inside, leave = threading.Event(), threading.Event()

    def hung() -> None:
        with gate.call():
            inside.set()
            leave.wait(10)

    t = threading.Thread(target=hung)
    t.start()
    assert inside.wait(10)
    with pytest.raises(LibraryUnavailable, match="1 PKCS#11 call"), gate.reset(0.05):
        raise AssertionError("finalised under a running call")
    with gate.call():  # the refused reset let calls in again
        pass
    leave.set()
    t.join(10)
    with gate.reset(1):
        assert gate.calls_inside == 0
