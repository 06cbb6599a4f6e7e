"""The Mastodon adapter, with the real Mastodon.py talking to a fake instance on 127.0.0.1.

Nothing here reaches the internet and nothing in the library is patched: the fake server
(``tests/fakes/fake_mastodon.py``) answers as Mastodon documents, and each test switches it to
the behaviour it needs.
"""

from __future__ import annotations

import logging
import socket
import time
import traceback
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import mastodon
import pytest

from planner.adapters import mastodon as mastodon_module
from planner.adapters.base import AccountSettings, Adapter, OutgoingPost, Published
from planner.adapters.mastodon import MastodonAdapter, count_characters
from planner.errors import (
    AuthFailed,
    InputError,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
    Uncertain,
)

from fakes.fake_mastodon import BEHAVIOURS, FIRST_STATUS_ID, FakeMastodon
from support.adapter_checks import assert_no_secret_piece, shown_texts
from support.media import FIRST, SECOND, Ledger

SECRET = "sekrit-token-123"
ENV = {"MASTODON_TOKEN": SECRET}
FIXED = datetime(2024, 5, 6, 9, 30, tzinfo=UTC)
TIMEOUT = 0.5  # the adapter's timeout in these tests; the "timeout" server waits longer

MakeAdapter = Callable[..., MastodonAdapter]


def post(n: int = 1, key: str | None = None, text: str | None = None) -> OutgoingPost:
    return OutgoingPost(
        post_id=n,
        account="main",
        text=text if text is not None else f"Post number {n} https://example.com/{n}",
        idempotency_key=key or f"key-{n}",
        kind="help",
        item_id=f"item-{n}",
    )


def settings(
    options: dict[str, Any] | None = None, credentials: dict[str, str] | None = None
) -> AccountSettings:
    return AccountSettings(
        name="main",
        network="mastodon",
        options=options if options is not None else {"api_base_url": "https://mastodon.social"},
        credentials=credentials if credentials is not None else {"access_token_env": "X"},
    )


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """requests honours proxy variables; the fake server must be reached directly."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("all_proxy", raising=False)


@pytest.fixture
def server() -> Iterator[FakeMastodon]:
    with FakeMastodon(token=SECRET) as fake:
        yield fake


@pytest.fixture
def make(server: FakeMastodon) -> Iterator[MakeAdapter]:
    """Adapters for the fake server (closed afterwards); keyword arguments are options."""
    made: list[MastodonAdapter] = []

    def make_adapter(
        environ: dict[str, str] | None = None,
        credentials: dict[str, str] | None = None,
        clock: Callable[[], datetime] = lambda: FIXED,
        **options: Any,
    ) -> MastodonAdapter:
        options = {"api_base_url": server.url, "timeout": TIMEOUT, **options}
        credentials = {"access_token_env": "MASTODON_TOKEN"} if credentials is None else credentials
        adapter = MastodonAdapter(
            settings(options, credentials), ENV if environ is None else environ, clock=clock
        )
        made.append(adapter)
        return adapter

    yield make_adapter
    for adapter in made:
        adapter.close()


# --- construction: options, and nothing touches the network -------------------------------


def test_the_module_name_does_not_shadow_the_library() -> None:
    # planner.adapters.mastodon imports Mastodon.py's `mastodon` when it first needs a client
    # (not at import: loading a config must not pay for it), and that is the library.
    assert "Mastodon" not in vars(mastodon_module)
    adapter = MastodonAdapter(settings(), {"X": "token"})
    client, _ = adapter._client()
    assert type(client) is mastodon.Mastodon
    assert mastodon.__name__ == "mastodon" and "site-packages" in (mastodon.__file__ or "")


def test_creating_an_adapter_needs_no_credentials_and_sends_nothing(server: FakeMastodon) -> None:
    adapter = MastodonAdapter(settings({"api_base_url": server.url}, credentials={}), {})
    assert isinstance(adapter, Adapter)
    assert adapter.supports_idempotency is True
    assert adapter.validate("hello") == []
    assert server.requests == []


def test_defaults_and_normalised_options() -> None:
    adapter = MastodonAdapter(settings({"api_base_url": "mastodon.social/"}), {})
    assert adapter.api_base_url == "https://mastodon.social"
    assert adapter.instance == "mastodon.social"
    assert (adapter.visibility, adapter.language) == ("public", None)
    assert (adapter.max_characters, adapter.timeout) == (500, 10.0)
    options = {
        "api_base_url": "http://127.0.0.1:8080",
        "visibility": "unlisted",
        "language": "DE",
        "max_characters": 5000,
        "timeout": 2,
    }
    adapter = MastodonAdapter(settings(options), {})
    assert adapter.api_base_url == "http://127.0.0.1:8080"
    assert (adapter.visibility, adapter.language) == ("unlisted", "de")
    assert (adapter.max_characters, adapter.timeout) == (5000, 2.0)


def test_unknown_options_and_credentials_are_named() -> None:
    with pytest.raises(InputError) as caught:
        MastodonAdapter(
            settings(
                {"api_base_url": "https://m.example", "colour": "red", "privacy": "public"},
                {"access_token_env": "A", "token_env": "B"},
            ),
            {},
        )
    assert str(caught.value) == (
        'account "main": unknown option "colour" for network "mastodon" '
        "(known: api_base_url, language, max_characters, media_max_bytes, media_max_images, "
        "timeout, visibility); "
        'unknown option "privacy" for network "mastodon" '
        "(known: api_base_url, language, max_characters, media_max_bytes, media_max_images, "
        "timeout, visibility); "
        'unknown credential "token_env" for network "mastodon" '
        '(did you mean "access_token_env"? known: access_token_env)'
    )


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("api_base_url", None),
        ("api_base_url", 42),
        ("api_base_url", "ftp://mastodon.social"),
        ("api_base_url", "https://mastodon.social/api/v1"),
        ("api_base_url", "https://user:pw@mastodon.social"),
        ("api_base_url", "https://mastodon.social:port"),
        ("visibility", "everyone"),
        ("language", "english"),
        ("language", 5),
        ("max_characters", "500"),
        ("max_characters", True),
        ("max_characters", 0),
        ("max_characters", 500.5),
        ("timeout", "10"),
        ("timeout", 0),
        ("timeout", -1),
        ("timeout", 301),  # the same range as every other adapter
        ("timeout", True),
        ("timeout", float("nan")),
    ],
)
def test_an_ill_typed_option_is_an_input_error_naming_it(option: str, value: object) -> None:
    options: dict[str, Any] = {"api_base_url": "https://mastodon.social", option: value}
    if value is None:
        del options[option]
    with pytest.raises(InputError) as caught:
        MastodonAdapter(settings(options), {})
    assert str(caught.value).startswith(f'account "main": option "{option}" must be ')
    assert repr(value) in str(caught.value)


# --- the length rule ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("hello", 5),
        # Grapheme clusters, as Mastodon counts (Ruby's each_grapheme_cluster):
        ("👍🏽", 1),  # emoji + skin tone: 2 code points
        ("👨\u200d👩\u200d👧", 1),  # a ZWJ family: 5 code points
        ("🇩🇪🇫🇷", 2),  # two flags: 4 regional indicators
        ("e\u0301", 1),  # e + combining acute accent
        ("cafe\u0301 ☕", 6),
        ("\r\n", 1),
        # Every link counts 23, shorter or longer, and only a link with a scheme:
        ("https://t.co", 23),
        ("https://example.com/" + "a" * 200 + "?q=1&r=2", 23),
        ("see https://example.com/a.", 4 + 23 + 1),  # the full stop is not part of it
        ("(https://example.com/wiki/Foo_(bar))", 1 + 23 + 1),  # balanced parentheses kept
        ("https://example.com/x?", 23 + 1),
        ("https://a.example https://b.example", 23 + 1 + 23),
        ("example.com/page", 16),  # no scheme: counted as written
        ("http://localhost/x", 18),  # no top-level domain: not a link
        # A mention counts without its domain; an address or a profile link is no mention:
        ("hi @alice@social.example!", 3 + 6 + 1),
        ("@bob", 4),
        ("write to team@brand.example", 27),
        ("https://mastodon.social/@alice@social.example", 23),
        ("@alice@social.example@", 22),  # followed by "@": not a mention
    ],
)
def test_characters_are_counted_as_mastodon_counts_them(text: str, length: int) -> None:
    assert count_characters(text) == length


def test_validate_applies_the_instance_limit() -> None:
    adapter = MastodonAdapter(settings(), {})
    assert adapter.validate("x" * 500) == []
    assert adapter.validate("👨\u200d👩\u200d👧" * 500) == []  # 2,500 code points, 500 graphemes
    assert adapter.validate("x" * 476 + " https://example.com/" + "y" * 300) == []  # 476+1+23
    assert adapter.validate("x" * 501) == [
        "501 characters, more than the 500 this Mastodon instance allows "
        "(each link counts 23, a mention without its domain)"
    ]
    assert adapter.validate("") == ["empty post"]
    assert adapter.validate(" \n\u3000") == ["empty post"]
    bigger = MastodonAdapter(
        settings({"api_base_url": "https://m.example", "max_characters": 1000}), {}
    )
    assert bigger.validate("x" * 1000) == []
    assert bigger.validate("x" * 1001)[0].startswith("1001 characters, more than the 1000")


def test_a_post_that_fails_validation_is_rejected_without_a_request(
    make: MakeAdapter, server: FakeMastodon
) -> None:
    with pytest.raises(Rejected, match="501 characters"):
        make().publish(post(text="x" * 501))
    with pytest.raises(Rejected, match="empty post"):
        make().publish(post(text="  "))
    assert server.requests == []


# --- publishing -------------------------------------------------------------------------


def test_publish_posts_the_status_and_returns_its_id_and_url(
    make: MakeAdapter, server: FakeMastodon
) -> None:
    published = make().publish(post(7, text="Hello fediverse https://example.com/7"))
    status_id = str(FIRST_STATUS_ID)
    assert published == Published(remote_id=status_id, url=f"{server.url}/@brand/{status_id}")
    assert [(r.method, r.path) for r in server.requests] == [("POST", "/api/v1/statuses")]
    sent = server.requests[0]
    assert sent.headers["authorization"] == f"Bearer {SECRET}"
    assert sent.headers["idempotency-key"] == "key-7"
    assert sent.params == {
        "status": "Hello fediverse https://example.com/7",
        "visibility": "public",
        "sensitive": "0",
    }


def test_visibility_and_language_options_are_sent(make: MakeAdapter, server: FakeMastodon) -> None:
    make(visibility="unlisted", language="de").publish(post(1))
    body = server.requests[0].params
    assert (body["visibility"], body["language"]) == ("unlisted", "de")
    assert server.statuses[0]["visibility"] == "unlisted"


def test_the_same_idempotency_key_publishes_one_status(
    make: MakeAdapter, server: FakeMastodon
) -> None:
    adapter = make()
    first = adapter.publish(post(1, key="same"))
    again = make().publish(post(1, key="same", text="re-rendered after a crash"))  # new process
    other = adapter.publish(post(2, key="other"))
    assert again == first
    assert other.remote_id != first.remote_id
    assert [r.headers["idempotency-key"] for r in server.requests] == ["same", "same", "other"]
    assert len(server.statuses) == 2


def test_a_post_that_timed_out_is_retried_into_the_same_status(
    make: MakeAdapter, server: FakeMastodon
) -> None:
    adapter = make()
    server.behaviour = "timeout"  # the instance posts the status but answers too late
    started = time.monotonic()
    with pytest.raises(Uncertain) as caught:
        adapter.publish(post(1))
    assert time.monotonic() - started < server.delay  # gave up after its own timeout
    assert str(caught.value) == f"outcome unknown: {adapter.instance} did not answer within 0.5 s"
    assert len(server.statuses) == 1
    server.behaviour = "ok"
    assert adapter.publish(post(1)).remote_id == server.statuses[0]["id"]
    assert len(server.statuses) == 1


def test_a_post_whose_connection_closed_before_the_answer_is_uncertain(
    make: MakeAdapter, server: FakeMastodon
) -> None:
    adapter = make()
    server.behaviour = "hang_up"  # the instance posts the status, then drops the connection
    with pytest.raises(Uncertain) as caught:
        adapter.publish(post(1))
    assert str(caught.value) == (
        f"outcome unknown: connection to {adapter.instance} failed (ConnectionError)"
    )
    server.behaviour = "ok"
    assert adapter.publish(post(1)).remote_id == server.statuses[0]["id"]
    assert len(server.statuses) == 1


def test_a_new_token_in_the_environment_is_used_from_the_next_post(
    make: MakeAdapter, server: FakeMastodon
) -> None:
    environ = {"MASTODON_TOKEN": "old-token"}
    adapter = make(environ=environ)
    with pytest.raises(AuthFailed):
        adapter.publish(post(1))
    environ["MASTODON_TOKEN"] = SECRET  # a person fixed it; the account is resumed
    assert adapter.publish(post(1)).remote_id == str(FIRST_STATUS_ID)
    assert server.requests[-1].headers["authorization"] == f"Bearer {SECRET}"


# --- what the instance answers, mapped ------------------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "error", "message"),
    [
        (
            "unauthorized",
            AuthFailed,
            # A 401 is a wrong, expired or revoked token, not a missing scope (issue 9).
            "authentication failed: {host} does not accept the access token in "
            "MASTODON_TOKEN: it is wrong, expired or revoked: The access token is invalid "
            "(HTTP 401; create a new token under Preferences > Development and set it in "
            "that variable)",
        ),
        (
            "forbidden",
            AuthFailed,
            "authentication failed: {host} refused the access token in MASTODON_TOKEN: "
            "This action is outside the authorized scopes (HTTP 403: the token lacks the "
            "write:statuses (or, for images, write:media) scope, or the account's login is "
            "disabled or unconfirmed)",
        ),
        (
            "rejected",
            Rejected,
            "rejected: Validation failed: Text character limit of 500 exceeded "
            "(HTTP 422 from {host})",
        ),
        ("not_found", Rejected, "rejected: Record not found (HTTP 404 from {host})"),
        (
            "server_error",
            Transient,
            "temporary failure: {host} answered HTTP 500: Internal Server Error",
        ),
        (
            "unavailable",
            Transient,
            "temporary failure: {host} answered HTTP 503: Service Unavailable",
        ),
        # A success whose body cannot be read: the status may exist.
        ("malformed", Uncertain, "outcome unknown: {host} sent an answer that is not valid JSON"),
        ("no_id", Uncertain, "outcome unknown: {host} answered without a status id"),
    ],
)
def test_each_answer_becomes_the_planners_error(
    make: MakeAdapter,
    server: FakeMastodon,
    behaviour: str,
    error: type[PublishError],
    message: str,
) -> None:
    adapter = make()
    server.behaviour = behaviour
    with pytest.raises(PublishError) as caught:
        adapter.publish(post(1))
    assert type(caught.value) is error
    assert str(caught.value) == message.format(host=adapter.instance)


def test_a_refused_token_is_an_auth_failure(make: MakeAdapter, server: FakeMastodon) -> None:
    with pytest.raises(AuthFailed, match="The access token is invalid"):
        make(environ={"MASTODON_TOKEN": "revoked"}).publish(post(1))


def test_text_the_instance_finds_too_long_is_rejected_with_its_message(
    make: MakeAdapter, server: FakeMastodon
) -> None:
    # The account says 1000, the instance allows 500: the instance has the last word.
    with pytest.raises(Rejected) as caught:
        make(max_characters=1000).publish(post(1, text="x" * 600))
    assert caught.value.reason.startswith("Validation failed: Text character limit of 500")


def test_an_instance_that_does_not_answer_is_transient(make: MakeAdapter) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    adapter = make(api_base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(Transient) as caught:
        adapter.publish(post(1))
    assert str(caught.value) == (
        f"temporary failure: connection to 127.0.0.1:{port} failed (ConnectionError)"
    )


def test_a_token_no_header_can_carry_is_an_auth_failure_that_does_not_quote_it(
    make: MakeAdapter, server: FakeMastodon
) -> None:
    with pytest.raises(AuthFailed) as caught:
        make(environ={"MASTODON_TOKEN": "sekrit\ntoken"}).publish(post(1))
    assert str(caught.value) == (
        "authentication failed: the access token in MASTODON_TOKEN has characters an HTTP "
        "header cannot carry"
    )
    assert server.requests == []


def test_rate_limited_until_the_reset_the_instance_gives(
    make: MakeAdapter, server: FakeMastodon
) -> None:
    # The instance's clock runs an hour ahead: its X-RateLimit-Reset is read against its
    # own Date header, so the reset lands 5 minutes from now on ours.
    server.clock_skew = timedelta(hours=1)
    server.behaviour = "rate_limited"
    adapter = make()
    before = datetime.now(UTC)
    with pytest.raises(RateLimited) as caught:
        adapter.publish(post(1))
    after = datetime.now(UTC)
    reset_at = caught.value.reset_at
    assert reset_at.utcoffset() == timedelta(0)
    # The Date header has whole seconds, so the reset may come up to a second later.
    assert before + timedelta(minutes=5, seconds=-1) <= reset_at
    assert reset_at <= after + timedelta(minutes=5, seconds=1)
    assert str(caught.value).endswith(f"UTC: {adapter.instance} answered 429 Too Many Requests")
    assert len(server.statuses) == 0


def test_rate_limited_without_a_reset_waits_15_minutes(
    make: MakeAdapter, server: FakeMastodon
) -> None:
    adapter = make()
    adapter.publish(post(1))  # an answer with a reset 5 minutes away: not the one to use
    server.behaviour = "rate_limited"
    server.reset_in = None
    with pytest.raises(RateLimited) as caught:
        adapter.publish(post(2))
    assert caught.value.reset_at == FIXED + timedelta(minutes=15)


def test_credentials_missing_at_publish_time_are_an_auth_failure(
    make: MakeAdapter, server: FakeMastodon
) -> None:
    with pytest.raises(AuthFailed) as caught:
        make(environ={}).publish(post(1))
    assert str(caught.value) == (
        'authentication failed: account "main": the environment variable MASTODON_TOKEN '
        "(access_token_env) is not set"
    )
    with pytest.raises(AuthFailed, match="MASTODON_TOKEN"):
        make(environ={"MASTODON_TOKEN": " "}).publish(post(1))
    with pytest.raises(AuthFailed) as caught:
        make(credentials={}).publish(post(1))
    assert str(caught.value) == (
        'authentication failed: account "main" has no access token: set access_token_env in '
        "[accounts.main.credentials] to the name of the environment variable that holds it"
    )
    assert server.requests == []


# --- verify -------------------------------------------------------------------------------


def test_verify_names_the_account_the_token_belongs_to(
    make: MakeAdapter, server: FakeMastodon
) -> None:
    adapter = make()
    assert adapter.verify() == f"@brand on {adapter.instance} (id {server.account_id})"
    assert [(r.method, r.path) for r in server.requests] == [
        ("GET", "/api/v1/accounts/verify_credentials")
    ]


@pytest.mark.parametrize(
    ("behaviour", "error"),
    [("unauthorized", AuthFailed), ("server_error", Transient), ("no_id", Transient)],
)
def test_verify_reports_failures_as_the_planners_errors(
    make: MakeAdapter, server: FakeMastodon, behaviour: str, error: type[PublishError]
) -> None:
    adapter = make()
    server.behaviour = behaviour
    with pytest.raises(error):
        adapter.verify()


def test_verify_without_credentials_is_an_auth_failure(make: MakeAdapter) -> None:
    with pytest.raises(AuthFailed, match="MASTODON_TOKEN"):
        make(environ={}).verify()


# --- secrets ------------------------------------------------------------------------------


# Every behaviour but hang_up; "leaky" quotes the Authorization header back in its error message.
@pytest.mark.parametrize("behaviour", [b for b in BEHAVIOURS if b != "hang_up"])
def test_the_token_appears_in_no_error_log_or_result(
    make: MakeAdapter,
    server: FakeMastodon,
    caplog: pytest.LogCaptureFixture,
    behaviour: str,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, the libraries' (urllib3) included
    adapter = make()
    server.behaviour = behaviour
    seen: list[str] = []
    for call in (lambda: adapter.publish(post(1)), adapter.verify):
        try:
            seen.append(repr(call()))
        except PublishError as error:
            seen += [str(error), repr(error), "".join(traceback.format_exception(error))]
    assert server.requests[0].headers["authorization"] == f"Bearer {SECRET}"  # it was sent
    assert any(record.name.startswith("urllib3") for record in caplog.records)
    seen += [record.getMessage() for record in caplog.records]
    seen.append(caplog.text)
    assert [text for text in seen if SECRET in text] == []
    if behaviour == "leaky":
        assert "cannot post with Bearer ***" in seen[0]


def test_an_instance_echoing_the_request_leaves_no_piece_of_the_token(
    make: MakeAdapter, server: FakeMastodon, caplog: pytest.LogCaptureFixture
) -> None:
    # Issue 9: the instance's message was cut to 300 characters before the token was
    # replaced, so a token straddling the cut survived in part. The padding moves the
    # echoed Authorization header across every point of the cut.
    caplog.set_level(logging.DEBUG)
    adapter = make()
    server.behaviour = "echo"
    errors: list[BaseException] = []
    for padding in range(0, 320, 4):
        server.echo_padding = padding
        with pytest.raises(Rejected) as caught:
            adapter.publish(post(padding))
        errors.append(caught.value)
    with pytest.raises(Rejected) as verified:
        adapter.verify()
    errors.append(verified.value)
    assert server.requests[0].headers["authorization"] == f"Bearer {SECRET}"  # it was sent
    assert "authorization: Bearer *** " in str(errors[0])  # the echo reached the message
    assert all(len(str(error)) < 400 for error in errors)  # and was still cut short
    assert_no_secret_piece(shown_texts(errors, caplog.records), [SECRET])


# --- images ----------------------------------------------------------------------------------


def test_a_post_with_two_images_uploads_them_in_order_with_alt_text_then_attaches_them(
    server: FakeMastodon, make: MakeAdapter
) -> None:
    server.processing_looks = 1  # 202 at upload, 206 at the first look, 200 at the second
    slept: list[float] = []
    adapter = make()
    adapter._sleep = slept.append
    ledger = Ledger()
    published = adapter.publish(ledger.post(post(1)))

    assert [m["data"] for m in server.media] == [FIRST.data, SECOND.data]
    assert [m["description"] for m in server.media] == [FIRST.alt, SECOND.alt]
    assert [m["mime"] for m in server.media] == ["image/png", "image/png"]
    (status,) = server.statuses
    assert [a["id"] for a in status["media_attachments"]] == [m["id"] for m in server.media]
    assert all(m["status"] == published.remote_id for m in server.media)
    assert ledger.uploaded == {0: server.media[0]["id"], 1: server.media[1]["id"]}
    assert slept == [1.0, 1.0]  # one wait per image, while the instance said 206
    paths = [r.path for r in server.requests]
    assert paths.index("/api/v1/statuses") > max(
        i for i, p in enumerate(paths) if p.startswith("/api/v1/media/")
    )


def test_a_retried_post_attaches_the_images_it_uploaded_before_without_uploading_again(
    server: FakeMastodon, make: MakeAdapter
) -> None:
    adapter = make()
    ledger = Ledger()
    server.status_behaviour = "unavailable"
    with pytest.raises(Transient):
        adapter.publish(ledger.post(post(1)))
    assert len(server.media) == 2 and len(ledger.uploaded) == 2

    server.status_behaviour = "ok"
    adapter.publish(ledger.post(post(1)))
    assert len(server.media) == 2  # nothing uploaded the second time
    (status,) = server.statuses
    assert [a["id"] for a in status["media_attachments"]] == [
        ledger.uploaded[0],
        ledger.uploaded[1],
    ]


def test_a_failed_upload_keeps_the_ones_before_it_and_fails_the_attempt_as_transient(
    server: FakeMastodon, make: MakeAdapter
) -> None:
    adapter = make()
    ledger = Ledger()
    server.failing_uploads = {2}
    with pytest.raises(Transient):
        adapter.publish(ledger.post(post(1)))
    assert list(ledger.uploaded) == [0] and server.statuses == []
    adapter.publish(ledger.post(post(1)))
    assert [m["data"] for m in server.media] == [FIRST.data, SECOND.data]


def test_an_image_still_processing_after_every_look_is_left_for_the_retry(
    server: FakeMastodon, make: MakeAdapter
) -> None:
    server.processing_looks = 100
    adapter = make()
    adapter._sleep = lambda seconds: None
    ledger = Ledger()
    with pytest.raises(Transient, match="still processing"):
        adapter.publish(ledger.post(post(1), FIRST))
    assert server.statuses == [] and list(ledger.uploaded) == [0]


def test_the_instance_limits_are_options_checked_when_the_config_loads() -> None:
    adapter = MastodonAdapter(
        settings({"api_base_url": "https://a.example", "media_max_bytes": 8_000_000,
                  "media_max_images": 2}),
        {},
    )  # fmt: skip
    assert (adapter.media_limits.max_bytes, adapter.media_limits.max_images) == (8_000_000, 2)
    problems = MastodonAdapter.check_options(
        settings({"api_base_url": "https://a.example", "media_max_images": 9})
    )
    assert [p.key for p in problems] == ["media_max_images"]
    assert "from 1 to 4, got 9" in problems[0].message
