"""The Facebook Page adapter against a fake Graph API on 127.0.0.1 (tests/fakes/fake_facebook.py).

Every outcome the Graph API documents is mapped to the planner's errors, the token only
ever travels in the body (or a header), and no secret reaches an error, a log or a result.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from planner.adapters.base import AccountSettings, Adapter, OutgoingPost, Published
from planner.adapters.facebook import FacebookPageAdapter
from planner.errors import (
    AuthFailed,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
    Uncertain,
)

from fakes.fake_facebook import BEHAVIOURS, FakeGraphAPI, GraphError
from support.adapter_checks import (
    assert_no_leak,
    assert_no_secret_piece,
    input_error,
    shown_texts,
    unused_port,
)
from support.media import FIRST, SECOND, Ledger

NOW = datetime(2024, 5, 6, 9, 30, tzinfo=UTC)
TOKEN = "sekrit-token-123"
APP_SECRET = "sekrit-app-secret-456"
ENV = {"FB_PAGE_TOKEN": TOKEN, "FB_APP_SECRET": APP_SECRET}
CREDENTIALS = {"page_access_token_env": "FB_PAGE_TOKEN"}


@pytest.fixture
def graph() -> Iterator[FakeGraphAPI]:
    with FakeGraphAPI(token=TOKEN) as fake:
        yield fake


def adapter(
    graph: FakeGraphAPI,
    environ: dict[str, str] | None = None,
    credentials: dict[str, str] | None = None,
    **options: object,
) -> FacebookPageAdapter:
    settings = AccountSettings(
        name="brand-fb",
        network="facebook",
        options={"page_id": graph.page_id, "graph_url": graph.url, **options},
        credentials=CREDENTIALS if credentials is None else credentials,
    )
    return FacebookPageAdapter(settings, ENV if environ is None else environ, clock=lambda: NOW)


def post(text: str = "Five ways to brew better coffee", url: str | None = None) -> OutgoingPost:
    return OutgoingPost(
        post_id=7, account="brand-fb", text=text, idempotency_key="key-7", url=url, kind="help"
    )


# --- publishing ----------------------------------------------------------------------------


def test_a_post_goes_to_the_page_feed_as_a_form_with_the_token_in_the_body(
    graph: FakeGraphAPI,
) -> None:
    published = adapter(graph).publish(post("Brew guide ☕ — part 1", url="https://ex.com/a"))
    assert published == Published(
        remote_id="1234567890_1001", url="https://www.facebook.com/1234567890_1001"
    )
    [got] = graph.requests
    assert got.method == "POST"
    assert got.target == "/v25.0/1234567890/feed"  # nothing in the query string
    assert got.header("Content-Type") == "application/x-www-form-urlencoded"
    assert got.form == {
        "message": "Brew guide ☕ — part 1",
        "link": "https://ex.com/a",
        "access_token": TOKEN,
    }
    assert (got.header("User-Agent") or "").startswith("planner/")


def test_a_post_without_a_url_sends_no_link(graph: FakeGraphAPI) -> None:
    adapter(graph).publish(post())
    assert graph.posts == [{"message": "Five ways to brew better coffee", "access_token": TOKEN}]


def test_the_token_never_appears_in_a_url(graph: FakeGraphAPI) -> None:
    facebook = adapter(graph)
    facebook.publish(post())
    facebook.verify()
    for got in graph.requests:
        assert TOKEN not in got.target
        assert "access_token" not in got.query


def test_api_version_and_graph_url_choose_the_endpoint(graph: FakeGraphAPI) -> None:
    graph.api_version = "v26.0"
    adapter(graph, api_version="v26.0", graph_url=graph.url + "/").publish(post())
    assert graph.requests[0].path == "/v26.0/1234567890/feed"


def test_an_app_secret_adds_the_appsecret_proof(graph: FakeGraphAPI) -> None:
    graph.app_secret = APP_SECRET
    credentials = {**CREDENTIALS, "app_secret_env": "FB_APP_SECRET"}
    adapter(graph, credentials=credentials).publish(post())
    expected = hmac.new(APP_SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()
    assert graph.posts[0]["appsecret_proof"] == expected


def test_a_wrong_app_secret_pauses_the_account(graph: FakeGraphAPI) -> None:
    graph.app_secret = "the-real-app-secret"
    credentials = {**CREDENTIALS, "app_secret_env": "FB_APP_SECRET"}
    with pytest.raises(AuthFailed, match="appsecret_proof: check the app secret in FB_APP_SECRET"):
        adapter(graph, credentials=credentials).publish(post())


# --- what Facebook says, and what it becomes ---------------------------------------------


def test_page_throttling_resets_when_the_usage_headers_say(graph: FakeGraphAPI) -> None:
    graph.behaviour = "rate_limit"
    graph.regain_minutes = 7
    with pytest.raises(RateLimited) as caught:
        adapter(graph).publish(post())
    assert caught.value.reset_at == NOW + timedelta(minutes=7)
    assert '"(#32) Page request limit reached" (code 32, fbtrace_id AbCdEfGh123)' in str(
        caught.value
    )


@pytest.mark.parametrize("code", [4, 17, 32, 341, 613, 80001])
def test_every_throttling_code_is_a_rate_limit(graph: FakeGraphAPI, code: int) -> None:
    graph.behaviour = GraphError(code, f"(#{code}) Too many calls")
    with pytest.raises(RateLimited) as caught:
        adapter(graph).publish(post())
    assert caught.value.reset_at == NOW + timedelta(minutes=15)  # no usage header: fallback


@pytest.mark.parametrize(
    ("headers", "minutes"),
    [
        ({"X-Page-Usage": '{"call_count": 100, "estimated_time_to_regain_access": 3}'}, 3),
        (
            {
                "X-Business-Use-Case-Usage": '{"1": [{"type": "pages", '
                '"estimated_time_to_regain_access": 12}], "2": [{"type": "pages", '
                '"estimated_time_to_regain_access": 4}]}',
                "X-Page-Usage": '{"estimated_time_to_regain_access": 9}',
            },
            12,
        ),
        ({"X-Page-Usage": '{"estimated_time_to_regain_access": 0}'}, 15),
        ({"X-Business-Use-Case-Usage": "not json"}, 15),
    ],
    ids=["page usage", "largest of all", "zero: fallback", "garbled: fallback"],
)
def test_the_reset_time_is_the_largest_estimate_in_the_usage_headers(
    graph: FakeGraphAPI, headers: dict[str, str], minutes: int
) -> None:
    graph.behaviour = GraphError(80001, "There have been too many calls", headers=headers)
    with pytest.raises(RateLimited) as caught:
        adapter(graph).publish(post())
    assert caught.value.reset_at == NOW + timedelta(minutes=minutes)


def test_an_expired_token_pauses_the_account_and_says_why(graph: FakeGraphAPI) -> None:
    graph.behaviour = "auth_failure"
    with pytest.raises(AuthFailed) as caught:
        adapter(graph).publish(post())
    message = str(caught.value)
    assert "the Page access token in FB_PAGE_TOKEN was refused: the token expired" in message
    assert "Session has expired" in message and "subcode 463" in message


def test_a_token_facebook_does_not_know_is_an_auth_failure(graph: FakeGraphAPI) -> None:
    with pytest.raises(AuthFailed, match="refused"):
        adapter(graph, environ={"FB_PAGE_TOKEN": "some-other-token"}).publish(post())


def test_an_api_session_error_is_an_auth_failure(graph: FakeGraphAPI) -> None:
    graph.behaviour = GraphError(102, "Session key invalid or no longer valid")
    with pytest.raises(AuthFailed, match="expired, was revoked or is invalid"):
        adapter(graph).publish(post())


def test_a_missing_permission_pauses_the_account_naming_the_permissions(
    graph: FakeGraphAPI,
) -> None:
    graph.behaviour = "permission"
    with pytest.raises(AuthFailed) as caught:
        adapter(graph).publish(post())
    assert "issue a new one with pages_manage_posts and pages_read_engagement" in str(caught.value)


@pytest.mark.parametrize("code", [10, 230, 299])
def test_every_permission_code_is_an_auth_failure(graph: FakeGraphAPI, code: int) -> None:
    graph.behaviour = GraphError(code, "(#10) Application does not have permission", status=403)
    with pytest.raises(AuthFailed, match="lacks a permission"):
        adapter(graph).publish(post())


@pytest.mark.parametrize(
    ("behaviour", "words"),
    [
        ("duplicate", '"Duplicate status message" (code 506'),
        ("spam", '"It looks like you were misusing this feature by going too fast." (code 368'),
        ("invalid_parameter", '"(#100) Invalid parameter" (code 100'),
    ],
)
def test_posts_facebook_refuses_for_good_are_rejected_with_its_words(
    graph: FakeGraphAPI, behaviour: str, words: str
) -> None:
    graph.behaviour = behaviour
    with pytest.raises(Rejected) as caught:
        adapter(graph).publish(post())
    assert caught.value.reason.startswith(f"Facebook: {words}")


@pytest.mark.parametrize(
    "error",
    [
        GraphError(1, "An unknown error occurred", status=500),
        GraphError(2, "Service temporarily unavailable", status=503),
        GraphError(1609005, "Error posting link", is_transient=True),
    ],
    ids=["code 1", "code 2", "is_transient"],
)
def test_temporary_graph_errors_are_transient(graph: FakeGraphAPI, error: GraphError) -> None:
    graph.behaviour = error
    with pytest.raises(Transient, match=error.message):
        adapter(graph).publish(post())


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        (GraphError(1609005, "Error posting link", status=400), Rejected),
        (GraphError(9999, "Something odd", status=500), Transient),
        (GraphError(9999, "Who are you", status=401), AuthFailed),
        (GraphError(9999, "Slow down", status=429), RateLimited),
    ],
    ids=["4xx", "5xx", "401", "429"],
)
def test_other_codes_are_mapped_by_http_status(
    graph: FakeGraphAPI, error: GraphError, raised: type[PublishError]
) -> None:
    graph.behaviour = error
    with pytest.raises(raised, match=error.message):
        adapter(graph).publish(post())


def test_a_401_without_a_known_code_says_the_token_is_bad_not_a_permission(
    graph: FakeGraphAPI,
) -> None:
    graph.behaviour = GraphError(9999, "Who are you", status=401)
    with pytest.raises(AuthFailed) as caught:
        adapter(graph).publish(post())
    assert str(caught.value).startswith(
        "authentication failed: the Page access token in FB_PAGE_TOKEN was refused: it is "
        'wrong, expired or revoked; issue a new one. Facebook: "Who are you" (code 9999'
    )
    assert "permission" not in str(caught.value)


def test_a_server_error_page_is_transient(graph: FakeGraphAPI) -> None:
    graph.behaviour = "server_error"
    with pytest.raises(Transient, match=r"HTTP 502 \(<html><body><h1>502 Bad Gateway"):
        adapter(graph).publish(post())


@pytest.mark.parametrize("behaviour", ["malformed", "no_id"])
def test_a_success_without_a_readable_id_is_uncertain_and_warns(
    graph: FakeGraphAPI, behaviour: str
) -> None:
    graph.behaviour = behaviour
    with pytest.raises(Uncertain, match="the post may be on the Page already"):
        adapter(graph).publish(post())


def test_no_answer_within_the_timeout_is_uncertain(graph: FakeGraphAPI) -> None:
    graph.behaviour = "timeout"
    started = time.monotonic()
    with pytest.raises(Uncertain) as caught:
        adapter(graph, timeout=0.25).publish(post())
    assert time.monotonic() - started < 2
    assert str(caught.value) == (
        f"outcome unknown: no answer from {graph.url}/v25.0/1234567890/feed within 0.25 s "
        "(the request may have arrived)"
    )


def test_a_connection_dropped_before_the_answer_is_uncertain(graph: FakeGraphAPI) -> None:
    # The Graph API read the whole request and may have posted: without an idempotency key,
    # only a person can tell, so the post must not be retried as if nothing had happened.
    graph.behaviour = "hang_up"
    with pytest.raises(Uncertain) as caught:
        adapter(graph).publish(post())
    assert str(caught.value) == (
        f"outcome unknown: connection to {graph.url}/v25.0/1234567890/feed failed: "
        "RemoteDisconnected"
    )
    assert len(graph.requests) == 1


def test_a_connection_dropped_while_verifying_is_transient(graph: FakeGraphAPI) -> None:
    graph.behaviour = "hang_up"
    with pytest.raises(Transient, match="RemoteDisconnected") as caught:
        adapter(graph).verify()
    assert type(caught.value) is Transient


def test_a_refused_connection_is_transient() -> None:
    settings = AccountSettings(
        name="brand-fb",
        network="facebook",
        options={"page_id": "1", "graph_url": f"http://127.0.0.1:{unused_port()}"},
        credentials=CREDENTIALS,
    )
    with pytest.raises(Transient, match="connection to .* failed: Connection refused") as caught:
        FacebookPageAdapter(settings, ENV).publish(post())
    assert caught.value.__cause__ is None and caught.value.__context__ is None


# --- credentials ---------------------------------------------------------------------------


def test_a_missing_token_variable_is_an_auth_failure_and_nothing_is_sent(
    graph: FakeGraphAPI,
) -> None:
    facebook = adapter(graph, environ={})  # made without secrets, like a planning machine
    assert facebook.validate("fine") == []
    with pytest.raises(AuthFailed) as caught:
        facebook.publish(post())
    assert str(caught.value) == (
        "authentication failed: the Page access token: environment variable FB_PAGE_TOKEN "
        "is not set"
    )
    assert graph.requests == []


def test_a_missing_token_reference_names_the_credential_key(graph: FakeGraphAPI) -> None:
    with pytest.raises(AuthFailed, match='no credential "page_access_token_env"'):
        adapter(graph, credentials={}).publish(post())


def test_a_missing_app_secret_variable_is_an_auth_failure(graph: FakeGraphAPI) -> None:
    credentials = {**CREDENTIALS, "app_secret_env": "FB_APP_SECRET"}
    with pytest.raises(AuthFailed, match="environment variable FB_APP_SECRET is not set"):
        adapter(graph, environ={"FB_PAGE_TOKEN": TOKEN}, credentials=credentials).publish(post())


# --- verify -------------------------------------------------------------------------------


def test_verify_names_the_page_the_token_belongs_to(graph: FakeGraphAPI) -> None:
    assert adapter(graph).verify() == "Page Acme Coffee (id 1234567890)"
    [got] = graph.requests
    assert (got.method, got.path, got.query) == ("GET", "/v25.0/me", {"fields": ["id,name"]})
    assert got.header("Authorization") == f"Bearer {TOKEN}"


def test_verify_refuses_a_token_of_another_page(graph: FakeGraphAPI) -> None:
    facebook = adapter(graph)  # for Page 1234567890
    graph.page_id = "555"  # whose token this is
    with pytest.raises(AuthFailed) as caught:
        facebook.verify()
    assert "belongs to Acme Coffee (id 555), not to Page 1234567890" in str(caught.value)


def test_verify_reports_a_refused_token(graph: FakeGraphAPI) -> None:
    graph.behaviour = "auth_failure"
    with pytest.raises(AuthFailed, match="the token expired"):
        adapter(graph).verify()


# --- construction and validation -----------------------------------------------------------


def test_it_is_an_adapter_that_promises_no_idempotency(graph: FakeGraphAPI) -> None:
    facebook = adapter(graph)
    assert isinstance(facebook, Adapter)
    assert facebook.supports_idempotency is False
    assert graph.requests == []  # creating it touched no network


def test_the_length_rule_is_63206_characters(graph: FakeGraphAPI) -> None:
    facebook = adapter(graph)
    assert facebook.validate("é" * 63_206) == []
    assert facebook.validate("x" * 63_207) == [
        "63,207 characters, over Facebook's limit of 63,206 for a Page post"
    ]
    assert facebook.validate(" \n") == ["empty post"]
    with pytest.raises(Rejected, match="over Facebook's limit"):
        facebook.publish(post("x" * 63_207))
    assert graph.requests == []


def test_defaults_point_at_the_real_graph_api() -> None:
    settings = AccountSettings(name="b", network="facebook", options={"page_id": 42})
    facebook = FacebookPageAdapter(settings, {})
    assert (facebook.graph_url, facebook.api_version, facebook.page_id, facebook.timeout) == (
        "https://graph.facebook.com",
        "v25.0",
        "42",
        10.0,
    )


@pytest.mark.parametrize(
    ("options", "credentials", "message"),
    [
        (
            {"page_id": "1", "colour": "blue", "token": "x"},
            {},
            'account "b": unknown option "colour" for network "facebook" '
            "(known: page_id, graph_url, api_version, timeout); "
            'unknown option "token" for network "facebook" '
            "(known: page_id, graph_url, api_version, timeout)",
        ),
        (
            {"page_id": "1"},
            {"page_token_env": "X"},
            'account "b": unknown credential "page_token_env" for network "facebook" '
            '(did you mean "page_access_token_env"? '
            "known: page_access_token_env, app_secret_env)",
        ),
        ({}, {}, 'option "page_id" is required'),
        ({"page_id": "Acme Coffee"}, {}, "must be the Page's numeric id, got 'Acme Coffee'"),
        ({"page_id": True}, {}, "must be the Page's numeric id, got True"),
        ({"page_id": "1", "graph_url": "http://graph.example.com"}, {}, "http:// only for"),
        ({"page_id": "1", "graph_url": "ftp://x"}, {}, 'option "graph_url" must be'),
        ({"page_id": "1", "graph_url": "https://x:99999"}, {}, 'option "graph_url" must be'),
        ({"page_id": "1", "api_version": "21"}, {}, 'option "api_version" must look like'),
        ({"page_id": "1", "timeout": "10"}, {}, 'option "timeout" must be a number'),
        ({"page_id": "1", "timeout": 0}, {}, 'option "timeout" must be'),
        ({"page_id": "1", "timeout": True}, {}, 'option "timeout" must be'),
    ],
)
def test_bad_options_are_input_errors_naming_them(
    options: dict[str, object], credentials: dict[str, str], message: str
) -> None:
    settings = AccountSettings(
        name="b", network="facebook", options=options, credentials=credentials
    )
    assert message in input_error(FacebookPageAdapter, settings)


# --- secrets ----------------------------------------------------------------------------------


def _leaks(value: object) -> bool:
    return (
        any(secret in value for secret in (TOKEN, APP_SECRET)) if isinstance(value, str) else False
    )


@pytest.mark.parametrize("behaviour", [b for b in BEHAVIOURS if b != "success"])
def test_no_secret_reaches_an_error_or_a_log(
    graph: FakeGraphAPI, caplog: pytest.LogCaptureFixture, behaviour: str
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, urllib3's included
    graph.behaviour = behaviour
    graph.echo_token = True
    graph.app_secret = APP_SECRET
    if behaviour == "auth_failure":
        graph.token = "another-token"  # so that the echoing server quotes ours back
    credentials = {**CREDENTIALS, "app_secret_env": "FB_APP_SECRET"}
    facebook = adapter(graph, credentials=credentials, timeout=0.25)
    with pytest.raises(PublishError) as caught:
        facebook.publish(post())
    assert_no_leak(caught.value, caplog.records, _leaks)
    assert graph.requests[0].form["access_token"] == TOKEN  # the secret was really used


def test_an_echoing_server_does_not_leak_the_token_into_an_error(graph: FakeGraphAPI) -> None:
    graph.echo_token = True
    graph.token = "another-token"
    with pytest.raises(AuthFailed) as caught:
        adapter(graph).publish(post())
    assert "Session has expired on Monday, 06-May-24 09:00:00 PDT (***)" in str(caught.value)


def test_no_secret_reaches_a_result_or_a_log_on_success(
    graph: FakeGraphAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    facebook = adapter(graph)
    published = facebook.publish(post())
    who = facebook.verify()
    assert not _leaks(repr(published)) and not _leaks(who)
    assert any("urllib3" in record.name for record in caplog.records)
    for record in caplog.records:
        assert not _leaks(record.getMessage())


def test_an_echoing_graph_api_leaves_no_piece_of_a_secret(
    graph: FakeGraphAPI, caplog: pytest.LogCaptureFixture
) -> None:
    # The token travels in the form body (percent-encoded), the proof beside it; the echo
    # moves both across the 300-character cut of Facebook's message.
    caplog.set_level(logging.DEBUG)
    graph.app_secret = APP_SECRET
    credentials = {**CREDENTIALS, "app_secret_env": "FB_APP_SECRET"}
    page = adapter(graph, credentials=credentials)
    graph.behaviour = "echo"
    errors: list[BaseException] = []
    for padding in range(0, 320, 4):
        graph.echo_padding = padding
        with pytest.raises(Rejected) as caught:
            page.publish(post())
        errors.append(caught.value)
    graph.echo_padding = 0
    with pytest.raises(Rejected) as verified:
        page.verify()  # the token goes in the Authorization header there
    errors.append(verified.value)
    proof = graph.requests[0].form["appsecret_proof"]
    assert graph.requests[0].form["access_token"] == TOKEN  # it was sent
    assert "access_token=***" in str(errors[0]) and "appsecret_proof=***" in str(errors[0])
    assert "authorization: Bearer ***" in str(errors[-1])
    assert_no_secret_piece(shown_texts(errors, caplog.records), [TOKEN, APP_SECRET, proof])


# --- images ----------------------------------------------------------------------------------


def test_two_images_are_unpublished_photos_attached_in_order_to_one_feed_post(
    graph: FakeGraphAPI,
) -> None:
    ledger = Ledger()
    published = adapter(graph).publish(ledger.post(post(url="https://coffee.example/brew")))

    assert [p["data"] for p in graph.photos] == [FIRST.data, SECOND.data]
    assert [p["alt"] for p in graph.photos] == [FIRST.alt, SECOND.alt]
    assert [p["published"] for p in graph.photos] == [False, False]
    assert [p["content_type"] for p in graph.photos] == ["image/png", "image/png"]
    (form,) = graph.posts
    assert form["message"] == "Five ways to brew better coffee"
    assert "link" not in form  # a link preview does not go with photos
    assert [json.loads(form[f"attached_media[{i}]"]) for i in range(2)] == [
        {"media_fbid": p["id"]} for p in graph.photos
    ]
    assert all(p["post"] == published.remote_id for p in graph.photos)
    assert ledger.uploaded == {0: graph.photos[0]["id"], 1: graph.photos[1]["id"]}
    assert TOKEN not in "".join(r.target for r in graph.requests)


def test_one_image_is_a_photo_post_with_the_text_as_its_caption(graph: FakeGraphAPI) -> None:
    ledger = Ledger()
    published = adapter(graph).publish(ledger.post(post(), FIRST))
    (photo,) = graph.photos
    assert photo["published"] and photo["caption"] == "Five ways to brew better coffee"
    assert (photo["data"], photo["alt"]) == (FIRST.data, FIRST.alt)
    assert published.remote_id == photo["post"]
    assert ledger.uploaded == {}  # the upload is the post: nothing to attach on a retry


def test_a_retried_post_attaches_the_photos_uploaded_before_without_uploading_again(
    graph: FakeGraphAPI,
) -> None:
    ledger = Ledger()
    graph.feed_behaviour = "server_error"
    with pytest.raises(Transient):
        adapter(graph).publish(ledger.post(post()))
    assert len(graph.photos) == 2 and graph.posts == []

    graph.feed_behaviour = "success"
    adapter(graph).publish(ledger.post(post()))
    assert len(graph.photos) == 2
    (form,) = graph.posts
    assert json.loads(form["attached_media[1]"]) == {"media_fbid": ledger.uploaded[1]}


def test_a_failed_photo_upload_is_transient_and_posts_nothing(graph: FakeGraphAPI) -> None:
    graph.photo_behaviour = "temporary"
    with pytest.raises(Transient):
        adapter(graph).publish(Ledger().post(post()))
    assert graph.posts == []
