"""Checks the adapter tests share: a refused port, an option's input error, leaked secrets."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Mapping, Sequence

import pytest

from planner.adapters.base import AccountSettings
from planner.errors import InputError


def unused_port() -> int:
    """A loopback port nobody listens on (connecting to it is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def input_error(
    make: Callable[[AccountSettings, Mapping[str, str]], object],
    settings: AccountSettings,
) -> str:
    """The message of the InputError that making an adapter from ``settings`` raises."""
    with pytest.raises(InputError) as caught:
        make(settings, {})
    return str(caught.value)


def assert_no_leak(
    error: BaseException, records: Sequence[logging.LogRecord], leaks: Callable[[object], bool]
) -> None:
    """Neither ``error`` (its whole chain, as a traceback shows it) nor a log record leaks."""
    chain: BaseException | None = error
    while chain is not None:
        assert not leaks(str(chain)) and not leaks(repr(chain))
        chain = chain.__cause__ or chain.__context__
    assert records, "the request was logged, so this test can see a leak"
    for record in records:
        assert not leaks(record.getMessage()), record.getMessage()
