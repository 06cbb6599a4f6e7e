"""The Bluesky adapter against the real atproto SDK talking to a fake PDS on 127.0.0.1.

Nothing is patched: the SDK logs in, refreshes and posts over HTTP to
:class:`fake_bluesky.FakeBluesky`, which answers as the XRPC API documents.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from planner.adapters.base import AccountSettings, Adapter, OutgoingPost, Published
from planner.adapters.bluesky import BlueskyAdapter, grapheme_count
from planner.errors import (
    AuthFailed,
    InputError,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
    Uncertain,
)

from fakes.fake_bluesky import REJECT_MESSAGE, FakeBluesky
from support.adapter_checks import assert_no_secret_piece, shown_texts
from support.media import FIRST, SECOND, Ledger

FIXED = datetime(2024, 5, 6, 9, 30, tzinfo=UTC)
PASSWORD = "sekrit-token-123"
ENV = {"BSKY_APP_PASSWORD": PASSWORD}
CREATE_SESSION = "com.atproto.server.createSession"
REFRESH_SESSION = "com.atproto.server.refreshSession"
CREATE_RECORD = "com.atproto.repo.createRecord"

Make = Callable[..., BlueskyAdapter]


def post(n: int = 1, text: str | None = None) -> OutgoingPost:
    return OutgoingPost(
        post_id=n, account="main", text=text or f"post number {n}", idempotency_key=f"key-{n}"
    )


def settings(
    options: dict[str, object] | None = None, credentials: dict[str, str] | None = None
) -> AccountSettings:
    return AccountSettings(
        name="main",
        network="bluesky",
        options={"handle": "brand.bsky.social"} if options is None else options,
        credentials={"app_password_env": "BSKY_APP_PASSWORD"}
        if credentials is None
        else credentials,
    )


@pytest.fixture
def fake() -> Iterator[FakeBluesky]:
    with FakeBluesky(app_password=PASSWORD) as server:
        yield server


@pytest.fixture
def adapters(fake: FakeBluesky) -> Iterator[list[BlueskyAdapter]]:
    """Adapters made by `make`, closed after the test."""
    made: list[BlueskyAdapter] = []
    yield made
    for adapter in made:
        adapter.close()


@pytest.fixture
def make(fake: FakeBluesky, adapters: list[BlueskyAdapter]) -> Make:
    """Builds adapters for the fake server, with a fixed clock and the password in ENV."""

    def build(
        environ: dict[str, str] | None = None, timeout: float = 2, **options: object
    ) -> BlueskyAdapter:
        opts = {"handle": "brand.bsky.social", "service": fake.url, "timeout": timeout, **options}
        adapter = BlueskyAdapter(
            settings(opts), ENV if environ is None else environ, clock=lambda: FIXED
        )
        adapters.append(adapter)
        return adapter

    return build


# --- construction and options -------------------------------------------------------------


def test_it_is_an_adapter_without_idempotency() -> None:
    adapter = BlueskyAdapter(settings(), {})
    assert isinstance(adapter, Adapter)
    assert adapter.supports_idempotency is False


def test_building_needs_no_secret_and_makes_no_request(fake: FakeBluesky) -> None:
    adapter = BlueskyAdapter(settings({"handle": "@brand.bsky.social", "service": fake.url}), {})
    assert adapter.validate("hello") == []
    assert fake.requests == []
    assert adapter.handle == "brand.bsky.social"  # the @ is dropped
    assert adapter.service == fake.url
    assert adapter.timeout == 10.0


def test_unknown_options_are_an_input_error_naming_them() -> None:
    with pytest.raises(InputError) as caught:
        BlueskyAdapter(settings({"handle": "b.bsky.social", "colour": "red", "pds": "x"}), {})
    assert str(caught.value) == (
        'account "main": unknown option "colour" for network "bluesky" '
        "(known: handle, service, timeout, langs); "
        'unknown option "pds" for network "bluesky" (known: handle, service, timeout, langs)'
    )


def test_unknown_credential_keys_are_an_input_error_naming_them() -> None:
    with pytest.raises(InputError) as caught:
        BlueskyAdapter(settings(credentials={"app_pasword_env": "BSKY_APP_PASSWORD"}), {})
    assert str(caught.value) == (
        'account "main": unknown credential "app_pasword_env" for network "bluesky" '
        '(did you mean "app_password_env"? known: app_password_env)'
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, 'option "handle" is required'),
        ({"handle": ""}, 'option "handle" must be a Bluesky handle'),
        ({"handle": "my brand"}, "got 'my brand'"),
        ({"handle": 42}, "got 42"),
        ({"handle": "b.bsky.social", "service": "bsky.social"}, '"service" must be an http(s) URL'),
        ({"handle": "b.bsky.social", "timeout": "10"}, "above 0 and at most 300, got '10'"),
        ({"handle": "b.bsky.social", "timeout": True}, '"timeout" must be a number'),
        ({"handle": "b.bsky.social", "timeout": 0}, '"timeout" must be a number'),
        ({"handle": "b.bsky.social", "timeout": 301}, "at most 300, got 301"),
        ({"handle": "b.bsky.social", "langs": "en,deutsch"}, '"langs" must list at most 3'),
        ({"handle": "b.bsky.social", "langs": "en,de,fr,it"}, '"langs" must list at most 3'),
        ({"handle": "b.bsky.social", "langs": 1}, 'option "langs" must be a string'),
    ],
)
def test_ill_typed_options_are_an_input_error_naming_them(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(InputError) as caught:
        BlueskyAdapter(settings(options), {})
    assert message in str(caught.value)
    assert str(caught.value).startswith('account "main": ')


# --- the length rule -------------------------------------------------------------------------

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 7 code points, 25 bytes
FLAG = "\U0001f1e9\U0001f1ea"  # DE: two regional indicators
RAINBOW_FLAG = "\U0001f3f3\ufe0f\u200d\U0001f308"
THUMBS = "\U0001f44d\U0001f3fd"  # with a skin tone
E_ACUTE = "e\u0301"  # e + combining acute
ZALGO = "a\u0300\u0301\u0302\u0303\u0304"  # one letter, five combining marks


@pytest.mark.parametrize(
    ("text", "graphemes"),
    [
        (FAMILY, 1),
        (FLAG + FLAG, 2),
        (RAINBOW_FLAG, 1),
        (THUMBS, 1),
        (E_ACUTE * 3, 3),
        (ZALGO, 1),
        ("\u1100\u1161\u11a8", 1),  # Hangul jamo making one syllable
        ("a\r\nb", 3),
        ("plain", 5),
    ],
)
def test_graphemes_are_counted_as_a_reader_sees_characters(text: str, graphemes: int) -> None:
    assert grapheme_count(text) == graphemes


def test_300_graphemes_pass_where_code_points_would_not() -> None:
    adapter = BlueskyAdapter(settings(), {})
    text = FAMILY + FLAG + RAINBOW_FLAG + THUMBS + E_ACUTE * 200 + "x" * 96
    assert grapheme_count(text) == 300 and len(text) > 300
    assert adapter.validate(text) == []
    assert adapter.validate(text + FLAG) == [
        "too long for Bluesky: 301 characters (graphemes), at most 300"
    ]


def test_more_than_3000_bytes_is_too_long_even_under_300_graphemes() -> None:
    adapter = BlueskyAdapter(settings(), {})
    assert adapter.validate(FAMILY * 120) == []  # 120 graphemes, 3000 bytes
    assert adapter.validate(FAMILY * 120 + "!") == [
        "too long for Bluesky: 3001 bytes in UTF-8, at most 3000"
    ]
    assert adapter.validate(ZALGO * 301) == [
        "too long for Bluesky: 301 characters (graphemes), at most 300",
        "too long for Bluesky: 3311 bytes in UTF-8, at most 3000",
    ]


def test_empty_text_is_refused() -> None:
    adapter = BlueskyAdapter(settings(), {})
    assert adapter.validate("") == ["empty post"]
    assert adapter.validate(" \n\t") == ["empty post"]


def test_a_post_too_long_is_rejected_without_a_request(make: Make, fake: FakeBluesky) -> None:
    with pytest.raises(Rejected, match="301 characters"):
        make().publish(post(text="x" * 301))
    assert fake.requests == []


# --- publishing ----------------------------------------------------------------------------


def test_a_post_is_a_record_with_text_and_created_at(make: Make, fake: FakeBluesky) -> None:
    published = make(langs="en, de").publish(post(text="Hello, Bluesky"))
    [request] = [r for r in fake.requests if r.nsid == CREATE_RECORD]
    assert request.method == "POST"
    assert request.headers["authorization"].startswith("Bearer ")
    assert request.json["repo"] == fake.did
    assert request.json["collection"] == "app.bsky.feed.post"
    assert "rkey" not in request.json
    assert request.json["record"] == {
        "$type": "app.bsky.feed.post",
        "text": "Hello, Bluesky",
        "createdAt": "2024-05-06T09:30:00.000Z",
        "langs": ["en", "de"],
    }
    rkey = published.remote_id.rsplit("/", 1)[1]
    assert len(rkey) == 13
    assert published == Published(
        remote_id=f"at://{fake.did}/app.bsky.feed.post/{rkey}",
        url=f"https://bsky.app/profile/brand.bsky.social/post/{rkey}",
    )


def test_links_and_hashtags_are_facets_at_utf8_byte_offsets(make: Make, fake: FakeBluesky) -> None:
    text = (
        f"Grüße aus Köln {FLAG}\U0001f468\u200d\U0001f469\u200d\U0001f467 — lies "
        "https://example.com/a?b=1, dann #Python und #über!"
    )
    make().publish(post(text=text))
    facets = fake.records[0]["facets"]
    spans = [(f["index"]["byteStart"], f["index"]["byteEnd"]) for f in facets]
    # The link starts at code point 30 but at byte 54: ü, ß, ö, the flag, the family, the dash.
    assert spans == [(54, 79), (86, 93), (98, 104)]
    encoded = text.encode("utf-8")
    assert [encoded[start:end].decode() for start, end in spans] == [
        "https://example.com/a?b=1",  # the trailing comma is punctuation, not the link
        "#Python",
        "#über",  # nor is the "!"
    ]
    assert [f["features"] for f in facets] == [
        [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/a?b=1"}],
        [{"$type": "app.bsky.richtext.facet#tag", "tag": "Python"}],
        [{"$type": "app.bsky.richtext.facet#tag", "tag": "über"}],
    ]
    assert all(f["$type"] == "app.bsky.richtext.facet" for f in facets)


def test_a_mention_of_a_handle_that_resolves_becomes_a_mention_facet(
    make: Make, fake: FakeBluesky
) -> None:
    fake.handles["lena.bsky.social"] = "did:plc:lenalenalenalenalenalena"
    make().publish(post(text="Merge queues by @lena.bsky.social, not @nobody.bsky.social"))
    [facet] = fake.records[0]["facets"]
    assert facet["index"] == {
        "$type": "app.bsky.richtext.facet#byteSlice",
        "byteStart": 16,
        "byteEnd": 33,
    }
    assert facet["features"] == [
        {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:lenalenalenalenalenalena"}
    ]


def test_a_post_without_links_has_no_facets(make: Make, fake: FakeBluesky) -> None:
    make().publish(post(text="Nothing to link here."))
    assert "facets" not in fake.records[0]
    assert "langs" not in fake.records[0]  # none configured: none claimed


def test_the_session_is_reused_between_posts(make: Make, fake: FakeBluesky) -> None:
    adapter = make()
    assert fake.requests == []  # nothing before the first publish
    ids = {adapter.publish(post(n)).remote_id for n in range(1, 5)}
    assert len(ids) == 4
    assert fake.count(CREATE_SESSION) == 1
    assert fake.count(CREATE_RECORD) == 4
    assert fake.requests[0].json == {"identifier": "brand.bsky.social", "password": PASSWORD}
    assert adapter.verify() == f"@brand.bsky.social ({fake.did})"
    assert fake.count(CREATE_SESSION) == 1


def test_an_access_token_near_expiry_is_refreshed_not_replaced_by_a_login(
    make: Make, fake: FakeBluesky
) -> None:
    fake.access_ttl = 60  # the SDK refreshes tokens that expire within 15 minutes
    adapter = make()
    for n in range(1, 4):
        adapter.publish(post(n))
    assert fake.count(CREATE_SESSION) == 1
    assert fake.count(REFRESH_SESSION) == 3
    assert fake.count(CREATE_RECORD) == 3


def test_a_session_the_server_expired_leads_to_one_new_login(make: Make, fake: FakeBluesky) -> None:
    adapter = make()
    adapter.publish(post(1))
    fake.expire_sessions()  # revoked server-side: the SDK cannot know before asking
    adapter.publish(post(2))
    assert fake.count(CREATE_SESSION) == 2
    assert [r.nsid for r in fake.requests[-3:]] == [CREATE_RECORD, CREATE_SESSION, CREATE_RECORD]
    assert len(fake.records) == 2
    adapter.publish(post(3))
    assert fake.count(CREATE_SESSION) == 2  # and the new session is kept


def test_a_refresh_token_the_server_expired_leads_to_one_new_login(
    make: Make, fake: FakeBluesky
) -> None:
    fake.access_ttl = 60  # so the SDK refreshes before every call
    adapter = make()
    adapter.publish(post(1))
    fake.expire_sessions()  # the refresh token too: refreshSession answers 400 ExpiredToken
    adapter.publish(post(2))
    assert [r.nsid for r in fake.requests[-4:]] == [
        REFRESH_SESSION,  # refused
        CREATE_SESSION,
        REFRESH_SESSION,  # the new token is short-lived too
        CREATE_RECORD,
    ]
    assert fake.count(CREATE_SESSION) == 2
    assert len(fake.records) == 2


@pytest.mark.parametrize("behaviour", ["expired", "auth"])
def test_a_session_still_refused_after_a_new_login_is_an_auth_failure(
    make: Make, fake: FakeBluesky, behaviour: str
) -> None:
    adapter = make()
    adapter.publish(post(1))
    fake.behaviour = behaviour
    with pytest.raises(AuthFailed) as caught:
        adapter.publish(post(2))
    assert fake.count(CREATE_SESSION) == 2  # one new login, not a loop
    assert fake.count(CREATE_RECORD) == 3
    expected = {
        "expired": "Bluesky said ExpiredToken: Token has expired (HTTP 400)",
        "auth": "Bluesky said AuthenticationRequired: Authentication Required (HTTP 401)",
    }[behaviour]
    assert str(caught.value) == (
        "authentication failed: Bluesky refused a session just opened for @brand.bsky.social "
        "with the app password in BSKY_APP_PASSWORD: the app password may have been revoked, "
        f"or the account suspended. {expected}"
    )


def test_a_fresh_session_refused_is_not_retried(make: Make, fake: FakeBluesky) -> None:
    fake.behaviour = "auth"
    with pytest.raises(AuthFailed):
        make().publish(post(1))
    assert fake.count(CREATE_SESSION) == 1
    assert fake.count(CREATE_RECORD) == 1


def test_a_wrong_app_password_is_an_auth_failure(make: Make, fake: FakeBluesky) -> None:
    with pytest.raises(AuthFailed) as caught:
        make(environ={"BSKY_APP_PASSWORD": "wrong-password"}).publish(post(1))
    assert str(caught.value) == (
        "authentication failed: Bluesky refused the login of @brand.bsky.social with the app "
        "password in BSKY_APP_PASSWORD: the handle or the app password is wrong, or the app "
        "password was revoked (create one under Settings > Privacy and security > App "
        "passwords). Bluesky said AuthenticationRequired: Invalid identifier or password "
        "(HTTP 401)"
    )
    assert fake.count(CREATE_SESSION) == 1
    assert fake.count(CREATE_RECORD) == 0


def test_a_missing_environment_variable_is_an_auth_failure_naming_it(
    make: Make, fake: FakeBluesky
) -> None:
    with pytest.raises(AuthFailed) as caught:
        make(environ={}).publish(post(1))
    assert str(caught.value) == (
        "authentication failed: environment variable BSKY_APP_PASSWORD is not set "
        '(credential app_password_env of account "main")'
    )
    assert fake.requests == []


def test_an_account_without_the_credential_is_an_auth_failure(fake: FakeBluesky) -> None:
    adapter = BlueskyAdapter(settings({"handle": "b.bsky.social", "service": fake.url}, {}), ENV)
    with pytest.raises(AuthFailed, match="has no credential app_password_env"):
        adapter.verify()
    assert fake.requests == []


# --- what the network says -----------------------------------------------------------------


def test_a_rate_limit_reports_the_reset_time_from_the_headers(
    make: Make, fake: FakeBluesky
) -> None:
    fake.rate_limit_reset = 1_900_000_000
    fake.behaviour = "rate_limit"
    with pytest.raises(RateLimited) as caught:
        make().publish(post(1))
    assert caught.value.reset_at == datetime.fromtimestamp(1_900_000_000, UTC)
    assert "RateLimitExceeded: Rate Limit Exceeded (HTTP 429)" in str(caught.value)


def test_a_rate_limit_without_a_reset_header_waits_15_minutes(
    make: Make, fake: FakeBluesky
) -> None:
    fake.rate_limit_reset = None
    fake.behaviour = "rate_limit"
    with pytest.raises(RateLimited) as caught:
        make().publish(post(1))
    assert caught.value.reset_at == FIXED + timedelta(minutes=15)


def test_a_rate_limited_login_is_a_rate_limit(make: Make, fake: FakeBluesky) -> None:
    # createSession is limited per account (30 per 5 minutes): one more reason to keep sessions.
    fake.rate_limit_reset = 1_900_000_300
    fake.login_behaviour = "rate_limit"
    with pytest.raises(RateLimited) as caught:
        make().publish(post(1))
    assert caught.value.reset_at == datetime.fromtimestamp(1_900_000_300, UTC)
    assert fake.count(CREATE_RECORD) == 0


def test_an_invalid_record_is_rejected_with_the_servers_message(
    make: Make, fake: FakeBluesky
) -> None:
    fake.behaviour = "reject"
    with pytest.raises(Rejected) as caught:
        make().publish(post(1))
    assert caught.value.reason == f"Bluesky said InvalidRequest: {REJECT_MESSAGE} (HTTP 400)"


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        ("server_error", "Bluesky said InternalServerError: Internal Server Error (HTTP 500)"),
        ("bad_gateway", "Bluesky said Bad Gateway (HTTP 502)"),
    ],
)
def test_server_failures_are_transient(
    make: Make, fake: FakeBluesky, behaviour: str, reason: str
) -> None:
    fake.behaviour = behaviour
    with pytest.raises(Transient) as caught:
        make().publish(post(1))
    assert type(caught.value) is Transient
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        ("malformed", "Bluesky sent a malformed answer (ValueError)"),
        ("incomplete", "Bluesky sent a malformed answer (ModelError)"),
    ],
)
def test_a_garbled_answer_to_a_post_is_uncertain(
    make: Make, fake: FakeBluesky, behaviour: str, reason: str
) -> None:
    # The record may exist and Bluesky has no idempotency key: not to be sent again blindly.
    fake.behaviour = behaviour
    with pytest.raises(Uncertain) as caught:
        make().publish(post(1))
    assert caught.value.reason == reason


@pytest.mark.parametrize("behaviour", ["malformed", "incomplete", "server_error"])
def test_a_login_answered_badly_is_transient(make: Make, fake: FakeBluesky, behaviour: str) -> None:
    fake.login_behaviour = behaviour
    with pytest.raises(Transient):
        make().publish(post(1))
    assert fake.count(CREATE_RECORD) == 0


def test_a_post_slower_than_the_timeout_is_uncertain(make: Make, fake: FakeBluesky) -> None:
    adapter = make(timeout=0.3)
    adapter.publish(post(1))  # logged in
    fake.behaviour = "timeout"
    started = time.monotonic()
    with pytest.raises(Uncertain) as caught:
        adapter.publish(post(2))
    assert time.monotonic() - started < fake.delay
    assert caught.value.reason == f"Bluesky ({fake.url}) did not answer within 0.3 s"


@pytest.mark.parametrize(
    ("behaviour", "why"),
    [("hang_up", "the connection to Bluesky ({url}) failed: RemoteProtocolError"),
     ("reset", "the connection to Bluesky ({url}) failed: ReadError: ")],
)  # fmt: skip
def test_a_connection_dropped_before_the_answer_to_a_post_is_uncertain(
    make: Make, fake: FakeBluesky, behaviour: str, why: str
) -> None:
    # The PDS read the whole createRecord request and may have stored the record.
    adapter = make()
    adapter.publish(post(1))  # logged in
    fake.behaviour = behaviour
    with pytest.raises(Uncertain) as caught:
        adapter.publish(post(2))
    assert caught.value.reason.startswith(why.format(url=fake.url))
    assert fake.count(CREATE_RECORD) == 2


def test_a_connection_dropped_while_logging_in_is_transient(make: Make, fake: FakeBluesky) -> None:
    fake.login_behaviour = "hang_up"
    with pytest.raises(Transient) as caught:
        make().publish(post(1))
    assert type(caught.value) is Transient
    assert fake.count(CREATE_RECORD) == 0


def test_a_server_that_is_gone_is_transient(
    fake: FakeBluesky, adapters: list[BlueskyAdapter]
) -> None:
    url = fake.url
    fake.close()
    adapter = BlueskyAdapter(settings({"handle": "brand.bsky.social", "service": url}), ENV)
    adapters.append(adapter)
    with pytest.raises(Transient) as caught:
        adapter.publish(post(1))
    assert caught.value.reason.startswith(f"cannot reach Bluesky at {url}: ConnectError")


# --- verify -------------------------------------------------------------------------------


def test_verify_asks_who_the_session_belongs_to(make: Make, fake: FakeBluesky) -> None:
    adapter = make()
    assert adapter.verify() == "@brand.bsky.social (did:plc:z72i7hdynmk6r22z27h6tvur)"
    assert [r.nsid for r in fake.requests] == [CREATE_SESSION, "com.atproto.server.getSession"]
    adapter.publish(post(1))
    assert fake.count(CREATE_SESSION) == 1


def test_verify_reports_an_account_that_is_not_active(make: Make, fake: FakeBluesky) -> None:
    fake.account_status = "deactivated"
    with pytest.raises(AuthFailed) as caught:
        make().verify()
    assert str(caught.value) == (
        "authentication failed: the Bluesky account @brand.bsky.social "
        f"({fake.did}) is not active: deactivated"
    )


@pytest.mark.parametrize(
    ("behaviour", "error"),
    [("auth", AuthFailed), ("server_error", Transient), ("rate_limit", RateLimited)],
)
def test_verify_maps_failures_too(
    make: Make, fake: FakeBluesky, behaviour: str, error: type[Exception]
) -> None:
    fake.behaviour = behaviour
    with pytest.raises(error):
        make().verify()


# --- secrets ------------------------------------------------------------------------------

EVERY_OUTCOME = [
    ("ok", "ok"),
    *[(b, "ok") for b in ("rate_limit", "auth", "expired", "reject", "server_error")],
    *[(b, "ok") for b in ("bad_gateway", "timeout", "malformed", "incomplete", "hang_up")],
    *[("ok", b) for b in ("rate_limit", "auth", "malformed", "incomplete", "server_error")],
]


@pytest.mark.parametrize(("behaviour", "login_behaviour"), EVERY_OUTCOME)
def test_secrets_appear_in_no_error_log_or_result(
    make: Make,
    fake: FakeBluesky,
    caplog: pytest.LogCaptureFixture,
    behaviour: str,
    login_behaviour: str,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx's and httpcore's
    fake.delay = 0.6
    fake.behaviour = behaviour
    fake.login_behaviour = login_behaviour
    adapter = make(timeout=0.3)
    seen: list[str] = []
    for action in (lambda: adapter.publish(post(1)), adapter.verify):
        try:
            seen.append(repr(action()))
        except Exception as exc:
            assert isinstance(exc, AuthFailed | RateLimited | Rejected | Transient | Uncertain)
            seen += [str(exc), repr(exc), repr(exc.__cause__), repr(exc.__context__)]
    seen += [record.getMessage() for record in caplog.records]
    seen += [caplog.text]
    secrets = {PASSWORD} | fake.issued_tokens()
    assert fake.requests[0].json["password"] == PASSWORD  # the secret was really sent
    assert any("HTTP Request" in line for line in seen)  # and the libraries' logs captured
    for secret in secrets:
        assert not [line for line in seen if secret in line]


def test_a_server_message_quoting_the_password_is_scrubbed(make: Make, fake: FakeBluesky) -> None:
    # A server that echoes what it was sent must not make the planner repeat the secret.
    fake.behaviour = "reject"
    fake.reject_message = f"cannot post as brand.bsky.social:{PASSWORD}"
    with pytest.raises(Rejected) as caught:
        make().publish(post(1))
    assert caught.value.reason == (
        "Bluesky said InvalidRequest: cannot post as brand.bsky.social:*** (HTTP 400)"
    )


def _echoed_errors(fake: FakeBluesky, action: Callable[[int], object]) -> list[BaseException]:
    """The errors of ``action`` while the server's echo moves across the 300-character cut."""
    errors: list[BaseException] = []
    for padding in range(0, 320, 4):
        fake.echo_padding = padding
        with pytest.raises(PublishError) as caught:
            action(padding)
        errors.append(caught.value)
    return errors


def test_an_echoed_access_token_leaves_no_piece_of_it(
    make: Make, fake: FakeBluesky, caplog: pytest.LogCaptureFixture
) -> None:
    # Issue 9: the session's accessJwt/refreshJwt were not scrubbed from server messages.
    caplog.set_level(logging.DEBUG)
    adapter = make()
    adapter.publish(post(1))  # logged in: the session's tokens exist
    fake.behaviour = "echo"
    errors = _echoed_errors(fake, lambda n: adapter.publish(post(n)))
    with pytest.raises(Rejected) as verified:
        adapter.verify()
    errors.append(verified.value)
    assert fake.requests[-1].headers["authorization"].startswith("Bearer ey")  # a JWT was sent
    assert "authorization: Bearer ***" in str(errors[0])  # the echo reached the message
    assert all(len(str(error)) < 450 for error in errors)  # cut short, after scrubbing
    assert_no_secret_piece(shown_texts(errors, caplog.records), fake.issued_tokens())


def test_an_echoed_refresh_token_leaves_no_piece_of_it(
    fake: FakeBluesky, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.access_ttl = 60  # the SDK refreshes a token this close to expiry before each call
    adapter = make()
    adapter.publish(post(1))
    fake.refresh_behaviour = "echo"
    errors = _echoed_errors(fake, lambda n: adapter.publish(post(n)))
    refreshes = [r for r in fake.requests if r.nsid == REFRESH_SESSION]
    assert len(refreshes) > 1  # the refresh token really went out, again and again
    assert "Invalid request: " in str(errors[0])
    assert_no_secret_piece(shown_texts(errors, caplog.records), fake.issued_tokens())


def test_an_echoed_app_password_leaves_no_piece_of_it(
    fake: FakeBluesky, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.login_behaviour = "echo"
    adapter = make()
    errors = _echoed_errors(fake, lambda n: adapter.publish(post(n)))
    assert all(isinstance(error, AuthFailed) for error in errors)
    assert '"password":"***"' in str(errors[0])
    assert_no_secret_piece(shown_texts(errors, caplog.records), [PASSWORD])


# --- images ----------------------------------------------------------------------------------


def test_a_post_with_two_images_embeds_the_uploaded_blobs_with_alt_text_and_aspect_ratio(
    make: Make, fake: FakeBluesky
) -> None:
    ledger = Ledger()
    make().publish(ledger.post(post(1)))

    assert [b["data"] for b in fake.blobs] == [FIRST.data, SECOND.data]
    assert [b["mime"] for b in fake.blobs] == ["image/png", "image/png"]
    (record,) = fake.records
    embed = record["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    assert [i["alt"] for i in embed["images"]] == [FIRST.alt, SECOND.alt]
    assert [i["image"]["ref"]["$link"] for i in embed["images"]] == [b["cid"] for b in fake.blobs]
    assert [(i["aspectRatio"]["width"], i["aspectRatio"]["height"]) for i in embed["images"]] == [
        (4, 3),
        (3, 5),
    ]
    assert [i["image"]["size"] for i in embed["images"]] == [len(FIRST.data), len(SECOND.data)]


def test_a_retried_post_embeds_the_blobs_it_uploaded_before_without_uploading_again(
    make: Make, fake: FakeBluesky
) -> None:
    ledger = Ledger()
    fake.behaviour = "server_error"  # createRecord fails; uploadBlob still works
    with pytest.raises(Transient):
        make().publish(ledger.post(post(1)))
    assert len(fake.blobs) == 2 and fake.records == []

    fake.behaviour = "ok"
    make().publish(ledger.post(post(1)))
    assert len(fake.blobs) == 2
    (record,) = fake.records
    assert [i["image"]["ref"]["$link"] for i in record["embed"]["images"]] == [
        b["cid"] for b in fake.blobs
    ]


def test_a_failed_upload_is_transient_and_creates_no_record(make: Make, fake: FakeBluesky) -> None:
    fake.upload_behaviour = "server_error"
    with pytest.raises(Transient):
        make().publish(Ledger().post(post(1)))
    assert fake.records == []
