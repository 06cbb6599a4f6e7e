"""Checks the adapter tests share: a refused port, an option's input error, leaked secrets."""

from __future__ import annotations

import logging
import socket
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence

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


def secret_pieces(secrets: Iterable[str], size: int = 8) -> set[str]:
    """Every ``size``-character piece of every secret: what must not appear anywhere, so
    that a secret cut in two by a shortened message is caught too."""
    return {secret[i : i + size] for secret in secrets for i in range(len(secret) - size + 1)}


def shown_texts(
    errors: Iterable[BaseException], records: Iterable[logging.LogRecord], *results: object
) -> list[str]:
    """What a person may see of an adapter's work: each error with its whole chain (as a
    traceback shows it), each log record's message, and whatever it returned."""
    texts: list[str] = []
    for error in errors:
        texts.append("".join(traceback.format_exception(error)))  # the chain it shows
        texts += [str(error), repr(error)]
    texts += [record.getMessage() for record in records]
    texts += [repr(result) for result in results]
    return texts


def assert_no_secret_piece(texts: Iterable[str], secrets: Iterable[str]) -> None:
    """No text holds an 8-character piece of any secret."""
    pieces = secret_pieces(secrets)
    assert pieces, "the secrets are long enough to be checked"
    for text in texts:
        found = sorted(piece for piece in pieces if piece in text)
        assert not found, f"{found[0]!r}, part of a secret, in: {text[:2000]!r}"
