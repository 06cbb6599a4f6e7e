"""The webhook adapter against a fake catch hook on 127.0.0.1 (tests/fakes/fake_webhook.py).

The receiver gets the exact JSON body, an Idempotency-Key and a signature it can check;
every answer maps to the planner's errors; and neither the signing secret, the
authorization value nor the token in the webhook's path reaches an error, a log or a result.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from planner.adapters.base import AccountSettings, Adapter, OutgoingPost, Published
from planner.adapters.webhook import WebhookAdapter
from planner.errors import (
    AuthFailed,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
    Uncertain,
)

from fakes.fake_webhook import BEHAVIOURS, FakeWebhook
from support.adapter_checks import (
    assert_no_leak,
    assert_no_secret_piece,
    input_error,
    shown_texts,
    unused_port,
)
from support.media import FIRST, SECOND, Ledger

NOW = datetime(2024, 5, 6, 9, 30, tzinfo=UTC)
SECRET = "sekrit-token-123"
AUTH_VALUE = "Bearer sekrit-bearer-789"
PATH_TOKEN = "Zq8vTt3uYw"  # the token in the webhook's URL, as Zapier and n8n put it there
PATH = f"/hooks/catch/123456/{PATH_TOKEN}/"
ENV = {"HOOK_SECRET": SECRET, "HOOK_AUTH": AUTH_VALUE}
SIGNED = {"signing_secret_env": "HOOK_SECRET"}
SUCCEEDING = ("success", "plain_ok", "no_content", "malformed", "echo_url")  # all 2xx


@pytest.fixture
def hook() -> Iterator[FakeWebhook]:
    with FakeWebhook(PATH) as fake:
        yield fake


@pytest.fixture
def signed_hook() -> Iterator[FakeWebhook]:
    with FakeWebhook(PATH, secret=SECRET) as fake:
        yield fake


def adapter(
    hook: FakeWebhook,
    environ: dict[str, str] | None = None,
    credentials: dict[str, str] | None = None,
    **options: object,
) -> WebhookAdapter:
    settings = AccountSettings(
        name="zap",
        network="webhook",
        options={"url": hook.url, **options},
        credentials=SIGNED if credentials is None else credentials,
    )
    return WebhookAdapter(settings, ENV if environ is None else environ, clock=lambda: NOW)


def post(key: str = "key-7", text: str = "Café tips ☕ — part 1") -> OutgoingPost:
    return OutgoingPost(
        post_id=7,
        account="zap",
        text=text,
        idempotency_key=key,
        url="https://example.com/tips",
        kind="help",
        item_id="tips-1",
    )


# --- the request ---------------------------------------------------------------------------


def test_the_receiver_gets_the_post_as_exact_json_with_an_idempotency_key(
    hook: FakeWebhook,
) -> None:
    adapter(hook, credentials={}).publish(post())
    [got] = hook.requests
    assert (got.method, got.target) == ("POST", PATH)
    assert got.json == {
        "post_id": 7,
        "account": "zap",
        "network": "webhook",
        "item_id": "tips-1",
        "kind": "help",
        "text": "Café tips ☕ — part 1",
        "url": "https://example.com/tips",
        "idempotency_key": "key-7",
        "sent_at": "2024-05-06T09:30:00+00:00",
    }
    assert "Café tips ☕".encode() in got.body  # UTF-8, not \\u-escaped
    assert got.header("Content-Type") == "application/json; charset=utf-8"
    assert got.header("Idempotency-Key") == "key-7"
    assert (got.header("User-Agent") or "").startswith("planner/")
    assert got.header("X-Planner-Signature") is None  # no secret configured: unsigned
    assert got.header("Authorization") is None


def test_the_body_is_signed_with_hmac_sha256_over_its_exact_bytes(
    signed_hook: FakeWebhook,
) -> None:
    adapter(signed_hook).publish(post())
    [got] = signed_hook.requests
    expected = hmac.new(SECRET.encode(), got.body, hashlib.sha256).hexdigest()
    assert got.header("X-Planner-Signature") == f"sha256={expected}"
    assert signed_hook.delivered == [got.body]  # the receiver checked it too


def test_the_signature_header_is_configurable() -> None:
    with FakeWebhook(PATH, secret=SECRET, signature_header="X-Hub-Signature-256") as hook:
        adapter(hook, signature_header="X-Hub-Signature-256").publish(post())
        [got] = hook.requests
        assert got.header("X-Hub-Signature-256") == hook.signature_of(got.body)
        assert got.header("X-Planner-Signature") is None


def test_a_receiver_with_another_secret_refuses_and_the_account_pauses() -> None:
    with (
        FakeWebhook(PATH, secret="the-receivers-secret") as hook,
        pytest.raises(AuthFailed) as caught,
    ):
        adapter(hook).publish(post())
    assert "answered HTTP 401" in str(caught.value)
    assert "check the signing secret in HOOK_SECRET" in str(caught.value)


def test_an_authorization_value_goes_in_its_header(hook: FakeWebhook) -> None:
    adapter(hook, credentials={"authorization_env": "HOOK_AUTH"}).publish(post())
    adapter(hook, credentials={"authorization_env": "HOOK_AUTH"}, auth_header="X-N8N-Auth").publish(
        post("key-8")
    )
    first, second = hook.requests
    assert first.header("Authorization") == AUTH_VALUE
    assert second.header("X-N8N-Auth") == AUTH_VALUE
    assert second.header("Authorization") is None


def test_the_user_agent_is_configurable(hook: FakeWebhook) -> None:
    adapter(hook, user_agent="acme-planner/2").publish(post())
    assert hook.requests[0].header("User-Agent") == "acme-planner/2"


# --- what the receiver says, and what it becomes ---------------------------------------------


def test_the_receivers_id_and_url_are_the_result() -> None:
    with FakeWebhook(PATH, with_url=True) as hook:
        published = adapter(hook).publish(post())
    assert published == Published(remote_id="wh-1", url="https://cms.example.com/posts/1")


def test_without_an_id_the_idempotency_key_is_the_remote_id(hook: FakeWebhook) -> None:
    webhook = adapter(hook)
    hook.behaviour = "success"
    assert webhook.publish(post("key-1")) == Published(remote_id="wh-1")
    for behaviour, key in (("plain_ok", "key-2"), ("no_content", "key-3"), ("malformed", "key-4")):
        hook.behaviour = behaviour  # any 2xx is taken; the body is optional, even broken
        assert webhook.publish(post(key)) == Published(remote_id=key), behaviour
    assert len(hook.delivered) == 4


def test_a_repeated_key_is_delivered_once_by_a_receiver_that_honours_it(
    hook: FakeWebhook,
) -> None:
    webhook = adapter(hook)
    assert webhook.supports_idempotency is True
    first = webhook.publish(post("same"))
    again = webhook.publish(post("same", text="re-sent after a crash"))
    assert first == again == Published(remote_id="wh-1")
    assert len(hook.requests) == 2 and len(hook.delivered) == 1


@pytest.mark.parametrize(
    ("retry_after", "reset_at"),
    [
        ("120", NOW + timedelta(seconds=120)),
        ("Mon, 06 May 2024 10:00:00 GMT", datetime(2024, 5, 6, 10, 0, tzinfo=UTC)),
        ("Mon, 06 May 2024 08:00:00 GMT", NOW),  # already past: now
        ("soon", NOW + timedelta(minutes=15)),
        ("", NOW + timedelta(minutes=15)),
    ],
    ids=["seconds", "http-date", "past date", "garbled", "missing"],
)
def test_429_is_a_rate_limit_until_retry_after(
    hook: FakeWebhook, retry_after: str, reset_at: datetime
) -> None:
    hook.behaviour = "rate_limit"
    hook.retry_after = retry_after
    with pytest.raises(RateLimited) as caught:
        adapter(hook).publish(post())
    assert caught.value.reset_at == reset_at
    assert "answered HTTP 429: slow down" in str(caught.value)


@pytest.mark.parametrize(
    ("behaviour", "said"),
    [
        ("auth_failure", 'HTTP 401: {"error": "invalid credentials"}'),
        ("forbidden", "HTTP 403: Authorization data is wrong!"),
    ],
)
def test_401_and_403_pause_the_account(hook: FakeWebhook, behaviour: str, said: str) -> None:
    hook.behaviour = behaviour
    with pytest.raises(AuthFailed) as caught:
        adapter(hook).publish(post())
    assert str(caught.value) == (
        f"authentication failed: the webhook at {hook.origin}/*** answered {said} "
        "(check the signing secret in HOOK_SECRET)"
    )


def test_a_refusal_is_rejected_with_the_status_and_the_start_of_the_body(
    hook: FakeWebhook,
) -> None:
    hook.behaviour = "rejected"
    with pytest.raises(Rejected) as caught:
        adapter(hook).publish(post())
    assert caught.value.reason == (
        f"the webhook at {hook.origin}/*** answered HTTP 422: "
        '{"error": "text is too long for the newsletter"}'
    )


def test_a_404_naming_the_webhook_path_is_rejected_without_the_path(hook: FakeWebhook) -> None:
    hook.behaviour = "not_found"
    with pytest.raises(Rejected) as caught:
        adapter(hook).publish(post())
    # n8n names the hook by its path: the pieces that look like tokens are hidden.
    assert 'The requested webhook \\"POST hooks/catch/***/***/\\" is not' in caught.value.reason
    assert PATH_TOKEN not in caught.value.reason


def test_a_redirect_is_not_followed_and_is_rejected(hook: FakeWebhook) -> None:
    hook.behaviour = "redirect"
    with pytest.raises(Rejected, match="HTTP 307 .*a redirect: set the option url"):
        adapter(hook).publish(post())
    assert [got.path for got in hook.requests] == [PATH]


@pytest.mark.parametrize(
    ("behaviour", "said"),
    [
        ("server_error", "answered HTTP 503: Service Unavailable"),
        ("request_timeout", "answered HTTP 408: Request Timeout"),
    ],
)
def test_server_trouble_is_transient(hook: FakeWebhook, behaviour: str, said: str) -> None:
    hook.behaviour = behaviour
    with pytest.raises(Transient, match=said) as caught:
        adapter(hook).publish(post())
    assert type(caught.value) is Transient


def test_an_answer_that_is_not_http_is_uncertain(hook: FakeWebhook) -> None:
    # Something read the whole request before answering garbage: the post may have arrived,
    # and is re-sent with the same Idempotency-Key rather than retried as a new one.
    hook.behaviour = "not_http"
    with pytest.raises(
        Uncertain, match="connection to http://127.0.0.1:.*/\\*\\*\\* failed: BadStatusLine"
    ):
        adapter(hook).publish(post())
    assert len(hook.requests) == 1


def test_no_answer_within_the_timeout_is_uncertain(hook: FakeWebhook) -> None:
    # The receiver may have the post: the pipeline re-sends it with the same
    # Idempotency-Key (the webhook is idempotent), which the receiver can drop.
    hook.behaviour = "timeout"
    started = time.monotonic()
    with pytest.raises(Uncertain) as caught:
        adapter(hook, timeout=0.25).publish(post())
    assert time.monotonic() - started < 2
    assert str(caught.value) == (
        f"outcome unknown: no answer from {hook.origin}/*** within 0.25 s "
        "(the request may have arrived)"
    )


def test_a_refused_connection_is_transient() -> None:
    port = unused_port()
    settings = AccountSettings(
        name="zap", network="webhook", options={"url": f"http://127.0.0.1:{port}{PATH}"}
    )
    with pytest.raises(Transient) as caught:
        WebhookAdapter(settings, {}).publish(post())
    assert str(caught.value) == (
        f"temporary failure: connection to http://127.0.0.1:{port}/*** failed: Connection refused"
    )
    # requests' own exception names the full URL: it is not even chained to ours.
    assert caught.value.__cause__ is None and caught.value.__context__ is None


# --- credentials and verify ------------------------------------------------------------------


def test_an_unset_signing_secret_is_an_auth_failure_and_nothing_is_sent(
    hook: FakeWebhook,
) -> None:
    webhook = adapter(hook, environ={})  # made without secrets, like a planning machine
    assert webhook.validate("fine") == []
    with pytest.raises(AuthFailed) as caught:
        webhook.publish(post())
    assert str(caught.value) == (
        "authentication failed: the signing secret: environment variable HOOK_SECRET is not set"
    )
    assert hook.requests == []


def test_an_unset_authorization_value_is_an_auth_failure(hook: FakeWebhook) -> None:
    credentials = {"authorization_env": "HOOK_AUTH"}
    with pytest.raises(AuthFailed, match="the Authorization header: environment variable HOOK"):
        adapter(hook, environ={}, credentials=credentials).publish(post())


def test_an_authorization_value_that_cannot_be_a_header_is_an_auth_failure(
    hook: FakeWebhook,
) -> None:
    credentials = {"authorization_env": "HOOK_AUTH"}
    with pytest.raises(AuthFailed, match="HOOK_AUTH cannot be sent in the Authorization header"):
        adapter(hook, {"HOOK_AUTH": "Bearer ☕"}, credentials).publish(post())
    assert hook.requests == []


def test_verify_names_the_host_and_sends_nothing(hook: FakeWebhook) -> None:
    assert adapter(hook).verify() == f"webhook to {hook.origin}"
    assert hook.requests == []
    with pytest.raises(AuthFailed, match="HOOK_SECRET is not set"):
        adapter(hook, environ={}).verify()


# --- construction and validation -----------------------------------------------------------------


def test_it_is_an_adapter_without_a_length_rule(hook: FakeWebhook) -> None:
    webhook = adapter(hook)
    assert isinstance(webhook, Adapter)
    assert webhook.validate("x" * 100_000) == []
    assert webhook.validate(" \n") == ["empty post"]
    with pytest.raises(Rejected, match="empty post"):
        webhook.publish(post(text=""))
    assert hook.requests == []


@pytest.mark.parametrize(
    ("options", "credentials", "message"),
    [
        (
            {"url": "https://h.example/x", "headers": "X-A: 1", "secret": "x"},
            {},
            'account "zap": unknown option "headers" for network "webhook" '
            "(known: url, signature_header, auth_header, user_agent, timeout); "
            'unknown option "secret" for network "webhook" '
            "(known: url, signature_header, auth_header, user_agent, timeout)",
        ),
        (
            {"url": "https://h.example/x"},
            {"secret_env": "X"},
            'unknown credential "secret_env" for network "webhook" '
            '(did you mean "signing_secret_env"? known: signing_secret_env, authorization_env)',
        ),
        ({}, {}, 'account "zap": option "url" is required'),
        ({"url": 3}, {}, 'option "url" must be an http(s) URL, got 3'),
        (
            {"url": f"ftp://files.example{PATH}"},
            {},
            'option "url" must be an http(s) URL, got ftp://files.example/***',
        ),
        ({"url": "http://h.example:99999/x"}, {}, 'option "url" must be an http(s) URL'),
        ({"url": "http://bad host/x"}, {}, 'option "url" must be an http(s) URL'),
        ({"url": "https://h.example/x", "timeout": -1}, {}, 'option "timeout" must be'),
        ({"url": "https://h.example/x", "signature_header": "X Sig"}, {}, "header name"),
        ({"url": "https://h.example/x", "signature_header": "Content-Type"}, {}, "other than"),
        (
            {"url": "https://h.example/x", "auth_header": "X-Key"},
            {},
            'option "auth_header" needs the credential "authorization_env"',
        ),
        (
            {"url": "https://h.example/x", "signature_header": "Authorization"},
            {},
            "name the same header",
        ),
        ({"url": "https://h.example/x", "user_agent": "a\nb"}, {}, "one line of text"),
    ],
)
def test_bad_options_are_input_errors_naming_them(
    options: dict[str, object], credentials: dict[str, str], message: str
) -> None:
    settings = AccountSettings(
        name="zap", network="webhook", options=options, credentials=credentials
    )
    said = input_error(WebhookAdapter, settings)
    assert message in said
    assert PATH_TOKEN not in said


# --- secrets --------------------------------------------------------------------------------------


def _leaks(value: object) -> bool:
    secrets = (SECRET, AUTH_VALUE, "sekrit-bearer-789", PATH_TOKEN)
    return any(secret in value for secret in secrets) if isinstance(value, str) else False


FAILING = [b for b in BEHAVIOURS if b not in SUCCEEDING]


@pytest.mark.parametrize("behaviour", FAILING)
def test_no_secret_reaches_an_error_or_a_log(
    hook: FakeWebhook, caplog: pytest.LogCaptureFixture, behaviour: str
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, urllib3's included
    hook.behaviour = behaviour
    credentials = {**SIGNED, "authorization_env": "HOOK_AUTH"}
    with pytest.raises(PublishError) as caught:
        adapter(hook, credentials=credentials, timeout=0.25).publish(post())
    assert_no_leak(caught.value, caplog.records, _leaks)
    assert hook.requests[0].header("Authorization") == AUTH_VALUE  # the secrets were used


def test_no_secret_reaches_a_result_or_a_log_on_success(
    signed_hook: FakeWebhook, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    webhook = adapter(signed_hook, credentials={**SIGNED, "authorization_env": "HOOK_AUTH"})
    published = webhook.publish(post())
    assert not _leaks(repr(published)) and not _leaks(webhook.verify())
    urllib3_lines = [r.getMessage() for r in caplog.records if r.name.startswith("urllib3")]
    assert any('"POST /*** HTTP/1.1" 200' in line for line in urllib3_lines), urllib3_lines
    for record in caplog.records:
        assert not _leaks(record.getMessage()), record.getMessage()


def test_a_receiver_echoing_its_url_does_not_leak_it_into_the_result(hook: FakeWebhook) -> None:
    hook.behaviour = "echo_url"
    assert adapter(hook).publish(post()) == Published(remote_id="key-7", url=None)


def test_a_receiver_echoing_the_request_leaves_no_piece_of_a_secret(
    hook: FakeWebhook, caplog: pytest.LogCaptureFixture
) -> None:
    # The echo moves across the 200-character cut of the receiver's answer: the secrets are
    # replaced in the whole answer before it is shortened (issue 9).
    caplog.set_level(logging.DEBUG)
    credentials = {**SIGNED, "authorization_env": "HOOK_AUTH"}
    webhook = adapter(hook, credentials=credentials)
    hook.behaviour = "echo"
    errors: list[BaseException] = []
    for padding in range(0, 220, 4):
        hook.echo_padding = padding
        with pytest.raises(Rejected) as caught:
            webhook.publish(post(key=f"key-{padding}"))
        errors.append(caught.value)
    assert hook.requests[0].header("Authorization") == AUTH_VALUE  # it was sent
    assert "POST *** " in str(errors[0]) and "authorization: ***" in str(errors[0])
    secrets = [SECRET, AUTH_VALUE.removeprefix("Bearer "), PATH_TOKEN]
    assert_no_secret_piece(shown_texts(errors, caplog.records), secrets)


# --- images ----------------------------------------------------------------------------------


def test_images_go_in_the_signed_body_in_order_with_type_alt_text_and_hash(
    signed_hook: FakeWebhook,
) -> None:
    adapter(signed_hook).publish(Ledger().post(post()))
    images = signed_hook.images(0)
    assert [i["data"] for i in images] == [FIRST.data, SECOND.data]
    assert [i["alt"] for i in images] == [FIRST.alt, SECOND.alt]
    assert [(i["type"], i["width"], i["height"]) for i in images] == [
        ("image/png", 4, 3),
        ("image/png", 3, 5),
    ]
    assert all("url" not in i for i in images)  # a file: no URL to give


def test_a_post_without_images_has_no_media_key(hook: FakeWebhook) -> None:
    adapter(hook).publish(post())
    assert "media" not in json.loads(hook.delivered[0])


def test_an_image_given_by_url_carries_its_url_too(hook: FakeWebhook) -> None:
    linked = replace(FIRST, source="https://cdn.example.org/chart.png", is_url=True)
    adapter(hook).publish(Ledger().post(post(), linked))
    assert hook.images(0)[0]["url"] == "https://cdn.example.org/chart.png"


# --- what requests takes from the environment, read once per adapter ---------------------

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture
def clean_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


def test_a_proxy_in_the_environment_carries_the_post(
    hook: FakeWebhook, clean_proxy_environment: pytest.MonkeyPatch
) -> None:
    # The host does not resolve: the post arrives only if it went through the proxy, which
    # receives the whole URL in its request line.
    clean_proxy_environment.setenv("HTTP_PROXY", hook.origin)
    settings = AccountSettings(
        name="zap", network="webhook", options={"url": f"http://hooks.invalid{PATH}"}
    )
    WebhookAdapter(settings, {}).publish(post())
    [got] = hook.requests
    assert got.target == f"http://hooks.invalid{PATH}"


def test_no_proxy_in_the_environment_is_honoured(
    hook: FakeWebhook, clean_proxy_environment: pytest.MonkeyPatch
) -> None:
    clean_proxy_environment.setenv("HTTP_PROXY", f"http://127.0.0.1:{unused_port()}")
    clean_proxy_environment.setenv("NO_PROXY", "127.0.0.1")
    adapter(hook, credentials={}).publish(post())
    [got] = hook.requests
    assert got.target == PATH


def test_a_netrc_login_for_the_host_is_sent(
    hook: FakeWebhook, clean_proxy_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login bob password s3cret\n")
    netrc.chmod(0o600)
    clean_proxy_environment.setenv("NETRC", str(netrc))
    adapter(hook, credentials={}).publish(post())
    [got] = hook.requests
    assert got.header("Authorization") == "Basic " + base64.b64encode(b"bob:s3cret").decode()


def test_the_environment_is_read_when_the_adapter_is_made(
    hook: FakeWebhook, clean_proxy_environment: pytest.MonkeyPatch
) -> None:
    # Read once, not at each post (it cost 0.7 ms a post): a proxy set afterwards, here
    # one that is not listening, is not used by an adapter made before.
    made = adapter(hook, credentials={})
    clean_proxy_environment.setenv("HTTP_PROXY", f"http://127.0.0.1:{unused_port()}")
    made.publish(post())
    [got] = hook.requests
    assert got.target == PATH
