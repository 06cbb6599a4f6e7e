"""Adapter options are checked when the config is loaded, so `config check` says what `run` says.

Issue 9: an unknown outbox option, a Mastodon account without ``api_base_url`` or with an
unknown ``instance`` key, a webhook ``timeout = 0`` were accepted by ``planner config check``
and refused only by ``planner run``. Each is now a config problem (exit 2) naming the file,
the line and ``accounts.NAME.options.KEY``, with a "did you mean" hint, found without a
secret and without a request. Third-party adapters are checked through the same entry
points, with or without the ``check_options`` hook.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.adapters import registry
from planner.adapters.base import AccountSettings, OptionProblem
from planner.cli import main
from planner.config.settings import parse_config
from planner.errors import ConfigError, Problem
from planner.redact import redact_option, redact_public_url

from fakes.fake_mastodon import FakeMastodon
from fakes.fake_webhook import FakeWebhook

CONFIG = Path("/work/planner.toml")  # only named in messages: nothing is read from it


def problems(text: str) -> list[Problem]:
    """The problems loading ``text`` as a config reports (none: it loaded)."""
    try:
        parse_config(textwrap.dedent(text), CONFIG)
    except ConfigError as error:
        return list(error.problems)
    return []


def only(found: list[Problem]) -> Problem:
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


# --- the cases of the issue, at config load -------------------------------------------------


def test_an_unknown_outbox_option_names_line_key_and_a_guess() -> None:
    problem = only(
        problems(
            """
            [accounts.main]
            network = "outbox"
            [accounts.main.options]
            pth = "outbox.jsonl"
            """
        )
    )
    assert (problem.line, problem.where) == (5, "accounts.main.options.pth")
    assert problem.message == (
        'unknown option "pth" for network "outbox" (did you mean "path"? known: path)'
    )
    assert str(problem).startswith("/work/planner.toml:5: accounts.main.options.pth: ")


def test_mastodon_without_api_base_url_is_refused_at_load() -> None:
    problem = only(
        problems(
            """
            [accounts.toot]
            network = "mastodon"
            credentials = { access_token_env = "MASTODON_TOKEN" }
            """
        )
    )
    assert problem.where == "accounts.toot.options.api_base_url"
    assert problem.line == 2  # no options table: the account's own header
    assert 'option "api_base_url" must be the address of your Mastodon instance' in (
        problem.message
    )


def test_an_unknown_instance_key_on_mastodon_is_named_with_what_is_known() -> None:
    found = problems(
        """
        [accounts.toot]
        network = "mastodon"
        [accounts.toot.options]
        instance = "mastodon.social"
        """
    )
    assert [(p.where, p.line) for p in found] == [
        ("accounts.toot.options.instance", 5),
        ("accounts.toot.options.api_base_url", 4),  # still missing; the table's header
    ]
    assert found[0].message == (
        'unknown option "instance" for network "mastodon" (did you mean "api_base_url"? '
        "known: api_base_url, language, max_characters, media_max_bytes, media_max_images, "
        "timeout, visibility)"
    )


def test_a_webhook_timeout_of_zero_is_refused_at_load() -> None:
    problem = only(
        problems(
            """
            [accounts.hook]
            network = "webhook"
            options = { url = "https://hooks.example.com/catch/1/abc", timeout = 0 }
            """
        )
    )
    assert (problem.where, problem.line) == ("accounts.hook.options.timeout", 4)
    assert problem.message == (
        'option "timeout" must be a number of seconds above 0 and at most 300, got 0'
    )


def test_an_api_base_url_with_a_path_is_refused_with_the_fix() -> None:
    problem = only(
        problems(
            """
            [accounts.toot]
            network = "mastodon"
            [accounts.toot.options]
            api_base_url = "https://mastodon.social/@brand"
            """
        )
    )
    assert problem.where == "accounts.toot.options.api_base_url"
    assert problem.message == (
        'option "api_base_url" must be the instance\'s address without a path, got '
        "'https://mastodon.social/@brand': use \"https://mastodon.social\""
    )


def test_credential_keys_are_checked_and_located_too() -> None:
    problem = only(
        problems(
            """
            [accounts.sky]
            network = "bluesky"
            options = { handle = "brand.bsky.social" }
            [accounts.sky.credentials]
            app_pasword_env = "BSKY_APP_PASSWORD"
            """
        )
    )
    assert (problem.where, problem.line) == ("accounts.sky.credentials.app_pasword_env", 6)
    assert 'did you mean "app_password_env"?' in problem.message


def test_x_without_credentials_points_at_the_credentials_table() -> None:
    problem = only(problems('[accounts.bird]\nnetwork = "x"\n'))
    assert problem.where == "accounts.bird.credentials"
    assert problem.message.startswith("no credentials for X: set either the four OAuth 1.0a")


def test_every_account_and_every_bad_option_is_reported_at_once() -> None:
    found = problems(
        """
        [accounts.main]
        network = "outbox"
        options = { colour = "red" }

        [accounts.hook]
        network = "webhook"
        options = { url = "ftp://example.com", timeout = 0, user_agent = "" }
        """
    )
    assert [p.where for p in found] == [
        "accounts.main.options.colour",
        "accounts.hook.options.url",
        "accounts.hook.options.user_agent",
        "accounts.hook.options.timeout",
    ]


def test_valid_options_of_every_network_load_without_secrets_or_requests() -> None:
    with FakeMastodon() as mastodon, FakeWebhook() as hook:
        found = problems(
            f"""
            [accounts.toot]
            network = "mastodon"
            credentials = {{ access_token_env = "UNSET_MASTODON_TOKEN" }}
            options = {{ api_base_url = "{mastodon.url}", visibility = "unlisted" }}

            [accounts.hook]
            network = "webhook"
            credentials = {{ signing_secret_env = "UNSET_HOOK_SECRET" }}
            options = {{ url = "{hook.url}/catch/123", timeout = 5 }}

            [accounts.sky]
            network = "bluesky"
            credentials = {{ app_password_env = "UNSET_BSKY" }}
            options = {{ handle = "brand.bsky.social", service = "http://127.0.0.1:9" }}

            [accounts.page]
            network = "facebook"
            credentials = {{ page_access_token_env = "UNSET_FB" }}
            options = {{ page_id = "12345", graph_url = "http://127.0.0.1:9" }}

            [accounts.bird]
            network = "x"
            credentials = {{ oauth2_access_token_env = "UNSET_X" }}

            [accounts.main]
            network = "outbox"
            options = {{ path = "never/created/outbox.jsonl" }}
            """
        )
        assert found == []
        assert mastodon.requests == [] and hook.requests == []
    assert not Path("never").exists()  # the outbox's file is not even looked for


# --- the command line: `config check` and `run` say the same -------------------------------


def cli(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args], catch_exceptions=False)


def test_config_check_and_run_refuse_the_same_options_with_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "planner.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "p.db"}"\n'
        '[accounts.toot]\nnetwork = "mastodon"\nslots = ["mon 09:00"]\n'
        '[accounts.toot.options]\napi_base_url = "https://mastodon.social/@brand"\n'
        'instanse = "mastodon.social"\n'
    )
    checked = cli(config, "config", "check")
    ran = cli(config, "run", "--once")
    assert checked.exit_code == ran.exit_code == 2
    assert "Traceback" not in checked.output + ran.output
    for result in (checked, ran):
        assert f"{config}:7: accounts.toot.options.api_base_url: " in result.output
        assert 'use "https://mastodon.social"' in result.output
        assert f"{config}:8: accounts.toot.options.instanse: " in result.output
    assert not (tmp_path / "p.db").exists()  # refused before anything was written


# --- redaction in `config check` --------------------------------------------------------------


def test_config_check_shows_public_service_urls_and_hides_webhook_urls(tmp_path: Path) -> None:
    config = tmp_path / "planner.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "p.db"}"\n'
        '[accounts.sky]\nnetwork = "bluesky"\n'
        'options = { handle = "b.bsky.social", service = "https://pds.example.org/base" }\n'
        '[accounts.page]\nnetwork = "facebook"\n'
        'options = { page_id = "1", graph_url = "https://graph.example.org/fb-proxy" }\n'
        '[accounts.toot]\nnetwork = "mastodon"\n'
        'options = { api_base_url = "https://mastodon.social" }\n'
        '[accounts.hook]\nnetwork = "webhook"\n'
        'options = { url = "https://hooks.example.com/catch/123/s3cretpath?key=k3y", '
        'auth_header = "X-N8N-Auth", signature_header = "X-Hub-Signature-256" }\n'
        'credentials = { authorization_env = "HOOK_AUTH", signing_secret_env = "HOOK_SECRET" }\n'
    )
    result = cli(config, "config", "check")
    assert result.exit_code == 0, result.output
    assert "service = https://pds.example.org/base" in result.output
    assert "graph_url = https://graph.example.org/fb-proxy" in result.output
    assert "api_base_url = https://mastodon.social" in result.output
    assert "url = https://hooks.example.com/***" in result.output
    assert "s3cretpath" not in result.output and "k3y" not in result.output
    # Header names look secret by name, but are not: shown as written.
    assert "auth_header = X-N8N-Auth" in result.output
    assert "signature_header = X-Hub-Signature-256" in result.output


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://mastodon.social", "https://mastodon.social"),
        ("https://pds.example.org/base/", "https://pds.example.org/base/"),
        ("http://127.0.0.1:8080/graph", "http://127.0.0.1:8080/graph"),
        ("https://user:pa55word@pds.example.org/x", "https://***@pds.example.org/x"),
        (
            "https://graph.example.org/v1?access_token=t0ken#frag",
            "https://graph.example.org/v1?***#***",
        ),
        ("https://[::1]:8443/p", "https://[::1]:8443/p"),
        ("https://host:99999/", "***"),
    ],
)
def test_a_public_url_shows_host_and_path_but_no_credential_or_query(url: str, shown: str) -> None:
    assert redact_public_url(url) == shown


def test_an_option_url_is_hidden_unless_declared_public_and_secret_keys_always() -> None:
    url = "https://hooks.example.com/catch/123/s3cret"
    assert redact_option("url", url) == "https://hooks.example.com/***"
    assert redact_option("service", url, public_url=True) == url
    assert redact_option("api_key", "inline-key-value") == "***"
    assert redact_option("api_key", "https://a.example/k", public_url=True) == "***"
    assert redact_option("auth_header", "X-N8N-Auth", plain=True) == "X-N8N-Auth"
    assert redact_option("auth_header", "X-N8N-Auth") == "***"
    assert redact_option("auth_header", "https://a.example/k", plain=True) == "***"


def test_the_built_in_adapters_declare_their_public_service_urls() -> None:
    assert registry.public_url_options("mastodon") == {"api_base_url"}
    assert registry.public_url_options("bluesky") == {"service"}
    assert registry.public_url_options("facebook") == {"graph_url"}
    assert registry.public_url_options("webhook") == frozenset()  # its URL is a secret
    assert registry.public_url_options("no-such-network") == frozenset()


# --- third-party adapters ----------------------------------------------------------------------

PLUGIN = '''
from planner.adapters.base import OptionProblem, Published


class Legacy:
    """Written before check_options: validates in its constructor, as adapters always did."""

    supports_idempotency = False

    def __init__(self, settings, environ):
        from planner.errors import InputError

        if "colour" in settings.options:
            raise InputError(f'account "{settings.name}": option "colour" is not known here')

    def validate(self, text):
        return []

    def publish(self, post):
        return Published(remote_id="1")


class Hooked(Legacy):
    def __init__(self, settings, environ):
        raise AssertionError("check_options must be used instead of building the adapter")

    @staticmethod
    def check_options(settings):
        size = settings.options.get("size", 1)
        if isinstance(size, int):
            return []
        return [OptionProblem("size", f'option "size" must be a number, got {size!r}')]


class WrongHook(Legacy):
    @staticmethod
    def check_options(settings):
        return "size is wrong"


class Crashing(Legacy):
    def __init__(self, settings, environ):
        raise ZeroDivisionError("a bug in the plugin")
'''

PLUGIN_ENTRY_POINTS = """
[planner.adapters]
legacy = optcheck_network:Legacy
hooked = optcheck_network:Hooked
wrong-hook = optcheck_network:WrongHook
crashing = optcheck_network:Crashing
missing = optcheck_missing_module:Adapter
"""


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An installed third-party distribution with several adapters (a dist-info on sys.path)."""
    site = tmp_path / "site"
    dist_info = site / "optcheck_network-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (site / "optcheck_network.py").write_text(textwrap.dedent(PLUGIN))
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: optcheck-network\nVersion: 1.0\n"
    )
    (dist_info / "entry_points.txt").write_text(PLUGIN_ENTRY_POINTS.lstrip())
    monkeypatch.syspath_prepend(str(site))
    registry.refresh()
    yield
    sys.modules.pop("optcheck_network", None)
    registry.refresh()


def account(network: str, **options: object) -> str:
    values = ", ".join(f"{key} = {value!r}".replace("'", '"') for key, value in options.items())
    return f'[accounts.a]\nnetwork = "{network}"\noptions = {{ {values} }}\n'


def test_an_adapter_without_the_hook_is_checked_by_building_it(plugin: None) -> None:
    assert problems(account("legacy")) == []
    problem = only(problems(account("legacy", colour="red")))
    assert problem.where == "accounts.a.options"  # it cannot say which key
    assert problem.message == 'option "colour" is not known here'


def test_an_adapter_with_the_hook_is_asked_and_not_built(plugin: None) -> None:
    assert problems(account("hooked", size=3)) == []
    problem = only(problems(account("hooked", size="big")))
    assert (problem.where, problem.line) == ("accounts.a.options.size", 3)
    assert problem.message == "option \"size\" must be a number, got 'big'"


@pytest.mark.parametrize(
    ("network", "said"),
    [
        ("wrong-hook", "its check_options() did not return OptionProblems"),
        ("crashing", "it failed with ZeroDivisionError"),
    ],
)
def test_a_broken_plugin_is_a_config_problem_not_a_traceback(
    plugin: None, network: str, said: str
) -> None:
    problem = only(problems(account(network)))
    assert problem.message == (
        f'the adapter for network "{network}" cannot check this account: {said}'
    )


def test_a_plugin_that_cannot_be_imported_is_named_at_the_network_key(plugin: None) -> None:
    problem = only(problems(account("missing")))
    assert (problem.where, problem.line) == ("accounts.a.network", 2)
    assert "ModuleNotFoundError" in problem.message


def test_check_account_returns_the_hooks_problems_as_given(plugin: None) -> None:
    settings = AccountSettings(name="a", network="hooked", options={"size": "big"})
    assert registry.check_account(settings) == [
        OptionProblem("size", "option \"size\" must be a number, got 'big'")
    ]


# --- any value: a problem, never an exception --------------------------------------------

# Each network's options, and names of the others (unknown there).
NETWORK_OPTIONS = {
    "outbox": ("path",),
    "console": ("width",),
    "mastodon": ("api_base_url", "visibility", "language", "max_characters", "timeout"),
    "bluesky": ("handle", "service", "timeout", "langs"),
    "facebook": ("page_id", "graph_url", "api_version", "timeout"),
    "webhook": ("url", "signature_header", "auth_header", "user_agent", "timeout"),
    "x": ("api_base", "timeout", "instance"),
}
CREDENTIAL_NAMES = (
    "access_token_env", "app_password_env", "page_access_token_env", "app_secret_env",
    "signing_secret_env", "authorization_env", "api_key_env", "api_secret_env",
    "access_token_secret_env", "oauth2_access_token_env", "token_env",
)  # fmt: skip
URLISH = st.sampled_from(
    ["http://[::1", "https://h:99999/", "https://h:x/", "https://", "http://h/p?q#f",
     "https://u:p@h/", "mastodon.social", "ftp://h", "https://h\n/", "https://h/@b"]
)  # fmt: skip
VALUES = st.one_of(
    st.text(max_size=30),
    URLISH,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(
    network_and_options=st.sampled_from(sorted(NETWORK_OPTIONS)).flatmap(
        lambda network: st.tuples(
            st.just(network),
            st.dictionaries(st.sampled_from(NETWORK_OPTIONS[network]), VALUES, max_size=4),
        )
    ),
    credentials=st.dictionaries(st.sampled_from(CREDENTIAL_NAMES), st.just("SOME_VAR")),
)
def test_every_option_value_is_a_problem_or_fine_never_an_exception(
    network_and_options: tuple[str, dict[str, object]], credentials: dict[str, str]
) -> None:
    # A value no parser expected (an unclosed IPv6 bracket, a port of 99999, a NaN) must be
    # a problem naming the key: the config loader reports an exception as a broken adapter.
    network, options = network_and_options
    account = AccountSettings(name="a", network=network, options=options, credentials=credentials)
    found = registry.check_account(account)
    assert all(isinstance(problem, OptionProblem) for problem in found)
    assert not [p for p in found if "cannot check this account" in p.message], found
    given = [*options, *credentials]
    assert {p.key for p in found if "unknown" in p.message} <= set(given)


@pytest.mark.parametrize("bad", ["http://[::1", "https://h:99999/", "https://h:x/", "https://h\n/"])
@pytest.mark.parametrize(
    ("network", "key", "others"),
    [
        ("webhook", "url", {}),
        ("facebook", "graph_url", {"page_id": "1"}),
        ("bluesky", "service", {"handle": "b.bsky.social"}),
        ("mastodon", "api_base_url", {}),
        ("x", "api_base", {}),
    ],
)
def test_a_url_requests_could_not_send_to_is_refused_at_its_key(
    network: str, key: str, others: dict[str, str], bad: str
) -> None:
    credentials = {"oauth2_access_token_env": "X_TOKEN"} if network == "x" else {}
    account = AccountSettings("a", network, options={key: bad, **others}, credentials=credentials)
    assert [problem.key for problem in registry.check_account(account)] == [key]
