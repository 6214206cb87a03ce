"""How a sync among several at once learns of a Ctrl-C (connectors/sync.py ``_stopped``, ``_until``):
the signal reaches the main thread only, which raises a flag the syncing threads read at a tap's
line or end - never an exception thrown into them at an arbitrary point."""

import signal
import threading

import pytest

from connectors import sync
from connectors.singer_runner import TapError


def _tap_error(code: int) -> TapError:
    error = TapError(f"tap-x sync failed (exit {code})")
    error.exit_code = code
    return error


def test_a_one_at_a_time_sync_has_no_flag_and_a_failure_stays_a_failure():
    assert not sync._stopped(None, _tap_error(-signal.SIGINT))


def test_with_the_flag_up_any_end_of_the_tap_is_the_interruption():
    stop = threading.Event()
    stop.set()
    assert sync._stopped(stop, _tap_error(1))
    assert sync._stopped(stop, RuntimeError("database went away"))


def test_a_tap_killed_by_sigint_waits_for_the_flag_the_main_thread_raises_a_moment_later():
    stop = threading.Event()
    threading.Timer(0.05, stop.set).start()
    assert sync._stopped(stop, _tap_error(-signal.SIGINT))


@pytest.mark.parametrize("code", [-signal.SIGINT, 128 + signal.SIGINT])
def test_a_tap_signalled_alone_failed(monkeypatch, code):
    monkeypatch.setattr(sync, "STOP_GRACE_S", 0.05)
    assert not sync._stopped(threading.Event(), _tap_error(code))


def test_an_ordinary_failure_does_not_wait_for_a_flag(monkeypatch):
    monkeypatch.setattr(sync, "STOP_GRACE_S", 60)  # would hang the test if it waited
    assert not sync._stopped(threading.Event(), _tap_error(1))
    assert not sync._stopped(threading.Event(), RuntimeError("no exit code"))


def test_lines_stop_at_the_first_line_after_the_flag():
    stop = threading.Event()
    seen = []
    with pytest.raises(KeyboardInterrupt):
        for line in sync._until(stop, iter([b"1", b"2", b"3"])):
            seen.append(line)
            if line == b"2":
                stop.set()
    assert seen == [b"1", b"2"]
    assert list(sync._until(None, iter([b"1", b"2"]))) == [b"1", b"2"]
