"""The X adapter against tests/fakes/fake_x.py: real tweepy and requests, a loopback server.

Every outcome X documents is played by the fake and must come out as the planner's own
result or error; no credential may show in an error, a log record or a result.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from planner.adapters.base import AccountSettings, Adapter, OutgoingPost, Published
from planner.adapters.x import XAdapter
from planner.errors import (
    AuthFailed,
    InputError,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
    Uncertain,
)

from fakes.fake_x import (
    BEHAVIOURS,
    DUPLICATE_DETAIL,
    FAKE_ENVIRON,
    OAUTH1_CREDENTIALS,
    OAUTH2_CREDENTIALS,
    FakeX,
)
from support.adapter_checks import assert_no_secret_piece, shown_texts
from support.media import FIRST, SECOND, Ledger

NOW = datetime(2030, 3, 17, 12, 0, tzinfo=UTC)
TIMEOUT = 0.5


@pytest.fixture
def fake() -> Iterator[FakeX]:
    with FakeX() as server:
        yield server


def adapter(
    fake: FakeX | None = None,
    credentials: dict[str, str] | None = None,
    environ: dict[str, str] | None = None,
    **options: Any,
) -> XAdapter:
    if fake is not None:
        options.setdefault("api_base", fake.url)
    options.setdefault("timeout", TIMEOUT)
    settings = AccountSettings(
        name="brand",
        network="x",
        options=options,
        credentials=OAUTH1_CREDENTIALS if credentials is None else credentials,
    )
    return XAdapter(settings, FAKE_ENVIRON if environ is None else environ, clock=lambda: NOW)


def post(text: str = "Hello from the planner") -> OutgoingPost:
    return OutgoingPost(post_id=7, account="brand", text=text, idempotency_key="key-7")


def failure(fake: FakeX, behaviour: str, **kwargs: Any) -> PublishError:
    fake.behaviour = behaviour
    with pytest.raises(PublishError) as caught:
        adapter(fake, **kwargs).publish(post())
    return caught.value


# --- construction -------------------------------------------------------------------------


def test_an_adapter_is_built_without_secrets_and_without_the_network(fake: FakeX) -> None:
    built = adapter(fake, environ={})
    assert isinstance(built, Adapter)
    assert built.supports_idempotency is False  # X has no idempotency key
    assert built.validate("fine") == []
    assert fake.requests == []


def test_options_default_to_a_10_second_timeout_and_the_real_host() -> None:
    settings = AccountSettings(name="brand", network="x", credentials=OAUTH1_CREDENTIALS)
    built = XAdapter(settings, {})
    assert (built.timeout, built.api_base) == (10.0, None)


def test_an_unknown_option_is_an_input_error_naming_it() -> None:
    with pytest.raises(InputError) as caught:
        adapter(colour="blue", handle="@brand")
    assert str(caught.value) == (
        'account "brand": unknown option "colour" for network "x" (known: api_base, timeout); '
        'unknown option "handle" for network "x" (known: api_base, timeout)'
    )


@pytest.mark.parametrize("value", [True, "10", 0, -1, float("inf"), 301])
def test_a_timeout_that_is_not_a_sensible_number_is_an_input_error(value: object) -> None:
    with pytest.raises(InputError, match=r'option "timeout" must be a number of seconds'):
        adapter(timeout=value)


@pytest.mark.parametrize("value", ["api.example.com", "ftp://example.com", "http://", 8080])
def test_an_api_base_that_is_not_an_http_url_is_an_input_error(value: object) -> None:
    with pytest.raises(InputError, match=r'option "api_base" must be an http\(s\) URL'):
        adapter(api_base=value)


def test_half_the_oauth1_keys_is_an_input_error_naming_the_missing_ones() -> None:
    partial = {"api_key_env": "K", "access_token_env": "T"}
    with pytest.raises(InputError) as caught:
        adapter(credentials=partial)
    assert str(caught.value) == (
        'account "brand": incomplete OAuth 1.0a credentials: '
        "missing api_secret_env, access_token_secret_env"
    )


def test_both_credential_sets_are_an_input_error() -> None:
    with pytest.raises(InputError, match="both OAuth 1.0a and OAuth 2.0 credentials"):
        adapter(credentials=OAUTH1_CREDENTIALS | OAUTH2_CREDENTIALS)


def test_no_credentials_is_an_input_error_saying_what_to_set() -> None:
    with pytest.raises(InputError) as caught:
        adapter(credentials={})
    assert "no credentials for X" in str(caught.value)
    assert "oauth2_access_token_env" in str(caught.value)
    assert "api_key_env, api_secret_env" in str(caught.value)


def test_an_unknown_credential_key_is_an_input_error_naming_it() -> None:
    with pytest.raises(InputError, match=r'unknown credential "bearer_token_env" for network "x"'):
        adapter(credentials=OAUTH2_CREDENTIALS | {"bearer_token_env": "X_BEARER"})


# --- validate -----------------------------------------------------------------------------


def test_validate_applies_the_weighted_280_rule() -> None:
    built = adapter()
    assert built.validate("x" * 280) == []
    assert built.validate("x" * 281) == [
        "too long for X: 281/280 weighted characters (URLs count 23, emoji and CJK characters 2)"
    ]
    assert built.validate("日" * 141)[0].startswith("too long for X: 282/280")
    link = "https://example.com/" + "a" * 200  # 220 characters, counted as 23
    assert built.validate(link + " " + "x" * 256) == []


def test_validate_refuses_empty_text_and_characters_x_refuses() -> None:
    built = adapter()
    assert built.validate("") == ["empty post"]
    assert built.validate(" \n\t") == ["empty post"]
    assert built.validate("ok\ufffe") == ["contains characters X refuses: U+FFFE"]


def test_publish_refuses_what_validate_refuses_without_calling_x(fake: FakeX) -> None:
    with pytest.raises(Rejected, match="too long for X: 300/280"):
        adapter(fake).publish(post("y" * 300))
    assert fake.requests == []


# --- publish: success ---------------------------------------------------------------------


def test_publish_with_oauth1_creates_the_tweet_and_returns_its_id_and_url(fake: FakeX) -> None:
    published = adapter(fake).publish(post("Hello, X"))
    tweet_id = str(fake.first_id)
    assert published == Published(remote_id=tweet_id, url=f"https://x.com/i/web/status/{tweet_id}")
    [request] = fake.requests
    assert (request.method, request.path, request.json) == (
        "POST",
        "/2/tweets",
        {"text": "Hello, X"},
    )
    authorization = request.headers["authorization"]
    assert authorization.startswith("OAuth ")
    assert 'oauth_consumer_key="fake-consumer-key-111"' in authorization
    assert 'oauth_token="123-fake-access-token-333"' in authorization
    assert 'oauth_signature_method="HMAC-SHA1"' in authorization


def test_publish_with_an_oauth2_user_token_sends_it_as_a_bearer_token(fake: FakeX) -> None:
    published = adapter(fake, credentials=OAUTH2_CREDENTIALS).publish(post())
    assert published.remote_id == str(fake.first_id)
    assert fake.requests[0].headers["authorization"] == "Bearer fake-oauth2-user-token-555"


def test_each_publish_creates_a_new_tweet(fake: FakeX) -> None:
    built = adapter(fake)
    ids = [built.publish(post(f"post {n}")).remote_id for n in range(3)]
    assert ids == [str(fake.first_id + n) for n in range(3)]


def test_credentials_are_read_when_publishing_not_before(fake: FakeX) -> None:
    environ: dict[str, str] = {}
    built = adapter(fake, environ=environ)
    environ.update(FAKE_ENVIRON)  # set after the adapter was made, as a secret manager might
    assert built.publish(post()).remote_id == str(fake.first_id)


def test_missing_environment_variables_fail_auth_naming_them_not_calling_x(fake: FakeX) -> None:
    environ = dict(FAKE_ENVIRON, X_API_SECRET="")
    del environ["X_ACCESS_TOKEN_SECRET"]
    with pytest.raises(AuthFailed) as caught:
        adapter(fake, environ=environ).publish(post())
    assert str(caught.value) == (
        'authentication failed: account "brand": environment variable(s) not set: '
        "X_API_SECRET, X_ACCESS_TOKEN_SECRET"
    )
    assert fake.requests == []


# --- publish: every failure ---------------------------------------------------------------


def test_a_rate_limit_waits_until_xs_reset_time(fake: FakeX) -> None:
    error = failure(fake, "rate_limited")
    assert isinstance(error, RateLimited)
    assert error.reset_at == datetime.fromtimestamp(fake.reset_epoch, UTC)
    assert "Too Many Requests" in str(error)


def test_a_spent_24_hour_cap_waits_until_the_cap_resets(fake: FakeX) -> None:
    error = failure(fake, "daily_cap")
    assert isinstance(error, RateLimited)
    assert error.reset_at == datetime.fromtimestamp(fake.daily_reset_epoch, UTC)


@pytest.mark.parametrize("behaviour", ["rate_limited_no_reset", "rate_limited_bad_reset"])
def test_a_rate_limit_without_a_usable_reset_waits_15_minutes(fake: FakeX, behaviour: str) -> None:
    error = failure(fake, behaviour)
    assert isinstance(error, RateLimited)
    assert error.reset_at == NOW + timedelta(minutes=15)


def test_a_reset_time_already_past_waits_a_minute(fake: FakeX) -> None:
    fake.reset_epoch = int((NOW - timedelta(seconds=30)).timestamp())
    error = failure(fake, "rate_limited")
    assert isinstance(error, RateLimited)
    assert error.reset_at == NOW + timedelta(minutes=1)


def test_refused_credentials_fail_auth(fake: FakeX) -> None:
    error = failure(fake, "unauthorized")
    assert isinstance(error, AuthFailed)
    assert str(error) == "authentication failed: X refused the credentials: Unauthorized"


def test_duplicate_content_is_rejected_with_xs_message(fake: FakeX) -> None:
    error = failure(fake, "duplicate")
    assert isinstance(error, Rejected)
    assert error.reason == f"duplicate content: {DUPLICATE_DETAIL}"


def test_another_refusal_of_the_post_is_rejected_with_xs_message(fake: FakeX) -> None:
    error = failure(fake, "forbidden")
    assert isinstance(error, Rejected)
    assert error.reason == "X answered 403: You are not permitted to perform this action."


def test_an_invalid_request_is_rejected_with_xs_message(fake: FakeX) -> None:
    error = failure(fake, "invalid_request")
    assert isinstance(error, Rejected)
    assert error.reason == "X answered 400: The `text` field is invalid."


@pytest.mark.parametrize(
    ("behaviour", "problem"),
    [
        ("read_only_app", "oauth1-permissions"),
        ("app_only_token", "unsupported-authentication"),
        ("credits_depleted", "credits"),
    ],
)
def test_refusals_about_the_apps_access_fail_auth_and_pause_the_account(
    fake: FakeX, behaviour: str, problem: str
) -> None:
    error = failure(fake, behaviour)
    assert isinstance(error, AuthFailed)
    assert f"X refused the app's access ({problem})" in str(error)


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        ("server_error", "X answered 500: Something went wrong."),
        ("unavailable", "X answered 503: 503 Service Unavailable"),
    ],
)
def test_server_errors_are_transient(fake: FakeX, behaviour: str, reason: str) -> None:
    error = failure(fake, behaviour)
    assert type(error) is Transient
    assert error.reason == reason


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        ("malformed", "X answered with a body that is not JSON (malformed response)"),
        ("no_id", "X answered without a tweet id (malformed response)"),
        ("wrong_shape", "unexpected answer from X (AttributeError, malformed response)"),
    ],
)
def test_a_garbled_answer_to_a_post_is_uncertain(fake: FakeX, behaviour: str, reason: str) -> None:
    # X may have created the tweet: the pipeline must not send it again blindly.
    error = failure(fake, behaviour)
    assert isinstance(error, Uncertain)
    assert error.reason == reason


def test_a_slow_answer_to_a_post_is_uncertain(fake: FakeX) -> None:
    started = time.monotonic()
    error = failure(fake, "slow")
    assert isinstance(error, Uncertain)
    assert error.reason == "X did not answer within 0.5 s"
    assert time.monotonic() - started < fake.delay


def test_a_connection_dropped_before_the_answer_to_a_post_is_uncertain(fake: FakeX) -> None:
    # X read the whole request and may have created the tweet: sending it again could double it.
    error = failure(fake, "hang_up")
    assert isinstance(error, Uncertain)
    assert error.reason.startswith("the connection to X closed before its answer: ")
    assert [r.path for r in fake.requests] == ["/2/tweets"]


def test_a_connection_dropped_while_verifying_is_transient(fake: FakeX) -> None:
    fake.behaviour = "hang_up"
    with pytest.raises(Transient, match="the connection to X closed before its answer") as caught:
        adapter(fake).verify()
    assert type(caught.value) is Transient


def test_an_unreachable_server_is_transient() -> None:
    with FakeX() as gone:
        url = gone.url
    with pytest.raises(Transient, match="cannot reach X"):
        adapter(api_base=url).publish(post())


# --- verify -------------------------------------------------------------------------------


@pytest.mark.parametrize("credentials", [OAUTH1_CREDENTIALS, OAUTH2_CREDENTIALS])
def test_verify_names_the_account_the_credentials_belong_to(
    fake: FakeX, credentials: dict[str, str]
) -> None:
    assert adapter(fake, credentials=credentials).verify() == "@brand (id 2244994945)"
    [request] = fake.requests
    assert (request.method, request.path) == ("GET", "/2/users/me")


@pytest.mark.parametrize("behaviour", ["unauthorized", "forbidden", "read_only_app"])
def test_verify_reports_refused_credentials_as_auth_failures(fake: FakeX, behaviour: str) -> None:
    fake.behaviour = behaviour
    with pytest.raises(AuthFailed):
        adapter(fake).verify()


def test_verify_reports_an_outage_as_transient(fake: FakeX) -> None:
    fake.behaviour = "server_error"
    with pytest.raises(Transient):
        adapter(fake).verify()


# --- secrets ------------------------------------------------------------------------------

SECRET = "sekrit-token-123"
SECRET_ENVIRON = {name: f"{SECRET}-{name}" for name in FAKE_ENVIRON}


def every_text_of(result: object) -> str:
    if isinstance(result, BaseException):
        return "\n".join([str(result), repr(result), *traceback.format_exception(result)])
    return repr(result)


@pytest.mark.parametrize(
    "credentials", [OAUTH1_CREDENTIALS, OAUTH2_CREDENTIALS], ids=["oauth1", "oauth2"]
)
@pytest.mark.parametrize("behaviour", BEHAVIOURS)
def test_no_secret_shows_in_errors_results_or_any_log_record(
    fake: FakeX,
    caplog: pytest.LogCaptureFixture,
    behaviour: str,
    credentials: dict[str, str],
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, the libraries' included
    fake.behaviour = behaviour
    built = adapter(fake, credentials=credentials, environ=SECRET_ENVIRON)
    results: list[object] = []
    for call in (lambda: built.publish(post()), built.verify):
        try:
            results.append(call())
        except PublishError as error:
            results.append(error)
    texts = [every_text_of(result) for result in results]
    texts += [record.getMessage() for record in caplog.records]
    assert fake.requests, "the fake was called"
    assert not [text for text in texts if SECRET in text]


@pytest.mark.parametrize(
    "credentials", [OAUTH1_CREDENTIALS, OAUTH2_CREDENTIALS], ids=["oauth1", "oauth2"]
)
def test_the_libraries_log_credentials_and_the_adapter_masks_them(
    fake: FakeX, caplog: pytest.LogCaptureFixture, credentials: dict[str, str]
) -> None:
    # What makes the test above meaningful: these records exist and would carry the secret.
    caplog.set_level(logging.DEBUG)
    adapter(fake, credentials=credentials, environ=SECRET_ENVIRON).publish(post())
    masked = [r for r in caplog.records if "***" in r.getMessage()]
    if credentials is OAUTH2_CREDENTIALS:
        assert any(r.name == "tweepy.client" and "Bearer ***" in r.getMessage() for r in masked)
    else:
        assert any(r.name.startswith(("oauthlib", "requests_oauthlib")) for r in masked)


def test_a_secret_echoed_by_the_server_is_masked_in_the_reason(fake: FakeX) -> None:
    fake.behaviour = "echo_auth"
    with pytest.raises(Rejected) as caught:
        adapter(fake, credentials=OAUTH2_CREDENTIALS, environ=SECRET_ENVIRON).publish(post())
    assert caught.value.reason == "X answered 400: Cannot use the header 'Bearer ***'"


# Random-looking values: no 8-character piece of them occurs in X's or OAuth's own words.
ECHO_ENVIRON = {
    "X_API_KEY": "qR7vLm2XwT9pKz4sNc8b",
    "X_API_SECRET": "Hd3kWq9ZrT5vYm1xPs7LcB2n",
    "X_ACCESS_TOKEN": "1500-Gk4TzQw8RmV2pXc7LsY9",
    "X_ACCESS_TOKEN_SECRET": "Uf6pNa3QzW8rKt1vYm5xLc",
    "X_OAUTH2_TOKEN": "bE9wQ2rTz7LkXm4VpS8cYn3H",
}


@pytest.mark.parametrize("credentials", [OAUTH1_CREDENTIALS, OAUTH2_CREDENTIALS])
def test_an_echoing_x_leaves_no_piece_of_a_credential(
    fake: FakeX, caplog: pytest.LogCaptureFixture, credentials: dict[str, str]
) -> None:
    # tweepy logs the request's headers and the answer's body at DEBUG: the echo is in both.
    caplog.set_level(logging.DEBUG)
    fake.behaviour = "echo"
    account = adapter(fake, credentials=credentials, environ=ECHO_ENVIRON)
    errors: list[BaseException] = []
    for padding in range(0, 320, 4):
        fake.echo_padding = padding
        with pytest.raises(Rejected) as caught:
            account.publish(post())
        errors.append(caught.value)
    with pytest.raises(AuthFailed) as verified:  # a refused verify is about the credentials
        account.verify()
    errors.append(verified.value)
    assert fake.requests[0].header("Authorization")  # the credentials were sent
    assert "authorization: " in str(errors[0]) and "***" in str(errors[0])
    assert any(record.name == "tweepy.client" for record in caplog.records)
    assert_no_secret_piece(shown_texts(errors, caplog.records), ECHO_ENVIRON.values())


# --- images ----------------------------------------------------------------------------------


def test_a_post_with_two_images_uploads_them_with_alt_text_then_tweets_their_ids(
    fake: FakeX,
) -> None:
    ledger = Ledger()
    published = adapter(fake).publish(ledger.post(post()))

    assert [u["data"] for u in fake.uploads] == [FIRST.data, SECOND.data]
    assert [u["alt"] for u in fake.uploads] == [FIRST.alt, SECOND.alt]
    (tweet,) = fake.tweets
    assert tweet["media_ids"] == [u["id"] for u in fake.uploads]  # in the items' order
    assert all(u["tweet"] == published.remote_id for u in fake.uploads)
    assert ledger.uploaded == {0: fake.uploads[0]["id"], 1: fake.uploads[1]["id"]}
    upload = next(r for r in fake.requests if r.path == "/1.1/media/upload.json")
    assert (upload.header("authorization") or "").startswith("OAuth ")  # v1.1: OAuth 1.0a


def test_a_retried_tweet_reuses_the_media_ids_without_uploading_again(fake: FakeX) -> None:
    ledger = Ledger()
    fake.behaviour = "server_error"  # the uploads go through; the tweet fails
    with pytest.raises(Transient):
        adapter(fake).publish(ledger.post(post()))
    assert len(fake.uploads) == 2 and fake.tweets == []

    fake.behaviour = "ok"
    adapter(fake).publish(ledger.post(post()))
    assert len(fake.uploads) == 2
    assert fake.tweets[0]["media_ids"] == [ledger.uploaded[0], ledger.uploaded[1]]


def test_a_failed_upload_is_transient_and_creates_no_tweet(fake: FakeX) -> None:
    fake.upload_behaviour = "server_error"
    with pytest.raises(Transient):
        adapter(fake).publish(Ledger().post(post()))
    assert fake.tweets == []


def test_an_oauth2_account_takes_no_images_and_says_why() -> None:
    x = adapter(credentials=OAUTH2_CREDENTIALS)
    assert x.media_limits is None and "OAuth 1.0a" in x.media_unavailable
    with pytest.raises(Rejected, match="OAuth 1.0a"):
        x.publish(Ledger().post(post()))
