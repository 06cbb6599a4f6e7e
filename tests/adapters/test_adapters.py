"""Network adapters: the entry-point registry, the outbox and the console.

The registry is tested the way a user meets it: the built-ins through the installed
``planner.adapters`` entry points, and a third-party network through a real (if tiny)
installed distribution on ``sys.path``, with no change to the planner.
"""

from __future__ import annotations

import io
import json
import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from planner.adapters import registry
from planner.adapters.base import AccountSettings, Adapter, OutgoingPost, Published
from planner.adapters.console import ConsoleAdapter
from planner.adapters.outbox import OutboxAdapter
from planner.errors import InputError, Rejected

from support.media import FIRST, SECOND

FIXED = datetime(2024, 5, 6, 9, 30, tzinfo=UTC)


def fixed_clock() -> datetime:
    return FIXED


def post(n: int, key: str | None = None, **fields: object) -> OutgoingPost:
    values: dict[str, object] = {
        "post_id": n,
        "account": "main",
        "text": f"post number {n}",
        "idempotency_key": key or f"key-{n}",
        "url": None,
        "kind": "help",
        "item_id": f"item-{n}",
    }
    values.update(fields)
    return OutgoingPost(**values)  # type: ignore[arg-type]


def outbox(tmp_path: Path, **options: object) -> OutboxAdapter:
    settings = AccountSettings(name="main", network="outbox", base_dir=tmp_path, options=options)
    return OutboxAdapter(settings, {}, clock=fixed_clock)


def lines_of(path: Path) -> list[str]:
    content = path.read_text(encoding="utf-8")
    assert content.endswith("\n"), "every record ends its line"
    return content.splitlines()


@pytest.fixture(autouse=True)
def fresh_registry() -> Iterator[None]:
    """No test sees networks a previous test installed (or misses ones it removed)."""
    registry.refresh()
    yield
    registry.refresh()


# --- the registry: built-ins ------------------------------------------------------------


def test_built_in_networks_are_registered_through_the_entry_point_group() -> None:
    networks = registry.available_networks()
    assert {"outbox", "console"} <= set(networks)
    assert networks["outbox"].group == "planner.adapters"
    assert registry.load_factory("outbox") is OutboxAdapter
    assert registry.load_factory("console") is ConsoleAdapter


def test_make_adapter_builds_the_configured_network(tmp_path: Path) -> None:
    settings = AccountSettings(name="main", network="outbox", base_dir=tmp_path)
    adapter = registry.make_adapter(settings, {})
    assert isinstance(adapter, OutboxAdapter)
    assert adapter.path == tmp_path / "outbox.jsonl"


def test_available_networks_returns_a_copy_callers_cannot_corrupt() -> None:
    registry.available_networks().clear()
    assert "outbox" in registry.available_networks()


def test_an_unknown_network_is_an_input_error_naming_the_installed_ones() -> None:
    installed = ", ".join(registry.available_networks())
    with pytest.raises(InputError) as caught:
        registry.load_factory("twiter")
    assert str(caught.value) == (
        f'unknown network "twiter" (installed: {installed}; '
        "a network is added by installing its adapter package)"
    )
    assert "console, " in installed and "outbox" in installed  # sorted, comma-separated


def test_make_adapter_reports_an_unknown_network(tmp_path: Path) -> None:
    settings = AccountSettings(name="main", network="twiter", base_dir=tmp_path)
    with pytest.raises(InputError, match='unknown network "twiter"'):
        registry.make_adapter(settings, {})


# --- the registry: a third-party network -------------------------------------------------

ACME_MODULE = '''
from planner.adapters.base import Published


class AcmeAdapter:
    """A third party's network: keeps what it publishes in a list."""

    supports_idempotency = False

    def __init__(self, settings, environ):
        self.token = settings.secret("token", environ)
        self.sent = []

    def validate(self, text):
        return [] if len(text) <= 10 else ["longer than 10 characters"]

    def publish(self, post):
        self.sent.append(post.text)
        return Published(remote_id=f"acme:{len(self.sent)}", url=None)


NOT_A_FACTORY = 42


def make_nothing(settings, environ):
    return object()
'''

ACME_ENTRY_POINTS = """
[planner.adapters]
acme = acme_network:AcmeAdapter
acme-number = acme_network:NOT_A_FACTORY
acme-nothing = acme_network:make_nothing
acme-broken = acme_missing_module:Adapter
"""


@pytest.fixture
def acme_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path holding a module and its dist-info: what `pip install` leaves."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "acme_network.py").write_text(textwrap.dedent(ACME_MODULE))
    dist_info = site / "acme_network-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-network\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(ACME_ENTRY_POINTS.lstrip())
    monkeypatch.syspath_prepend(str(site))
    registry.refresh()
    yield site
    sys.modules.pop("acme_network", None)


def test_a_network_is_added_by_installing_a_package(acme_installed: Path) -> None:
    assert "acme" in registry.available_networks()
    settings = AccountSettings(name="brand", network="acme", credentials={"token": "ACME_TOKEN"})
    adapter = registry.make_adapter(settings, {"ACME_TOKEN": "s3cret"})
    assert isinstance(adapter, Adapter)
    assert type(adapter).__name__ == "AcmeAdapter"
    assert adapter.validate("far too long for acme") == ["longer than 10 characters"]
    assert adapter.publish(post(1, text="hello")) == Published(remote_id="acme:1")
    assert adapter.token == "s3cret"  # type: ignore[attr-defined]


def test_a_network_is_not_seen_before_the_registry_is_refreshed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "acme" not in registry.available_networks()  # now cached without acme
    (tmp_path / "acme_network-1.0.dist-info").mkdir()
    (tmp_path / "acme_network-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme-network\nVersion: 1.0\n"
    )
    (tmp_path / "acme_network-1.0.dist-info" / "entry_points.txt").write_text(
        ACME_ENTRY_POINTS.lstrip()
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "acme" not in registry.available_networks()
    registry.refresh()
    assert "acme" in registry.available_networks()


def test_an_entry_point_naming_something_not_callable_is_an_input_error(
    acme_installed: Path,
) -> None:
    with pytest.raises(InputError) as caught:
        registry.load_factory("acme-number")
    message = str(caught.value)
    assert "acme_network:NOT_A_FACTORY" in message
    assert "acme-network 1.0" in message
    assert "42, which is not callable" in message


def test_a_factory_building_something_that_is_not_an_adapter_is_an_input_error(
    acme_installed: Path,
) -> None:
    settings = AccountSettings(name="brand", network="acme-nothing")
    with pytest.raises(InputError) as caught:
        registry.make_adapter(settings, {})
    assert str(caught.value) == (
        'account "brand": the adapter for network "acme-nothing" built a object, which is '
        "not an adapter (missing: supports_idempotency (a bool), validate(), publish())"
    )


def test_an_entry_point_that_cannot_be_imported_is_an_input_error(acme_installed: Path) -> None:
    with pytest.raises(InputError) as caught:
        registry.load_factory("acme-broken")
    message = str(caught.value)
    assert 'network "acme-broken" (acme_missing_module:Adapter' in message
    assert "ModuleNotFoundError" in message and "acme_missing_module" in message


# --- the outbox ---------------------------------------------------------------------------


def test_outbox_appends_one_exact_json_line_per_post(tmp_path: Path) -> None:
    adapter = outbox(tmp_path)
    first = adapter.publish(post(7, url="https://example.com/a", text="Café — déjà vu 🚀"))
    path = tmp_path / "outbox.jsonl"
    # Visible straight after publish returns: written, flushed and fsync'd, not buffered.
    assert [json.loads(line) for line in lines_of(path)] == [
        {
            "post_id": 7,
            "account": "main",
            "network": "outbox",
            "item_id": "item-7",
            "kind": "help",
            "text": "Café — déjà vu 🚀",
            "url": "https://example.com/a",
            "idempotency_key": "key-7",
            "published_at": "2024-05-06T09:30:00+00:00",
        }
    ]
    assert "Café — déjà vu 🚀" in path.read_text(encoding="utf-8")  # not \\u-escaped
    second = adapter.publish(post(8))
    assert len(lines_of(path)) == 2
    assert json.loads(lines_of(path)[1])["post_id"] == 8
    assert first == Published(remote_id="outbox:1", url=f"file://{path}#L1")
    assert second == Published(remote_id="outbox:2", url=f"file://{path}#L2")


def test_outbox_records_published_at_in_utc(tmp_path: Path) -> None:
    paris = datetime(2024, 5, 6, 11, 30, tzinfo=timezone(timedelta(hours=2)))
    settings = AccountSettings(name="main", network="outbox", base_dir=tmp_path)
    OutboxAdapter(settings, {}, clock=lambda: paris).publish(post(1))
    record = json.loads(lines_of(tmp_path / "outbox.jsonl")[0])
    assert record["published_at"] == "2024-05-06T09:30:00+00:00"


def test_outbox_records_the_account_network_name(tmp_path: Path) -> None:
    settings = AccountSettings(name="main", network="dry-run", base_dir=tmp_path)
    OutboxAdapter(settings, {}, clock=fixed_clock).publish(post(1))
    assert json.loads(lines_of(tmp_path / "outbox.jsonl")[0])["network"] == "dry-run"


def test_outbox_publishes_an_idempotency_key_once(tmp_path: Path) -> None:
    adapter = outbox(tmp_path)
    assert adapter.supports_idempotency is True
    adapter.publish(post(1))
    first = adapter.publish(post(2, key="same"))
    again = adapter.publish(post(2, key="same", text="re-rendered after a crash"))
    assert (
        again
        == first
        == Published(remote_id="outbox:2", url=f"file://{tmp_path / 'outbox.jsonl'}#L2")
    )
    assert len(lines_of(tmp_path / "outbox.jsonl")) == 2


def test_a_restarted_outbox_recognises_keys_already_in_the_file(tmp_path: Path) -> None:
    before_crash = outbox(tmp_path).publish(post(1))
    after_restart = outbox(tmp_path)
    assert after_restart.publish(post(1)) == before_crash
    assert after_restart.publish(post(2)).remote_id == "outbox:2"
    assert len(lines_of(tmp_path / "outbox.jsonl")) == 2


def test_outboxes_sharing_a_file_see_each_others_keys(tmp_path: Path) -> None:
    # Two runner processes on one outbox: each catches up with the file before writing.
    one, other = outbox(tmp_path), outbox(tmp_path)
    published = one.publish(post(1))
    assert other.publish(post(1)) == published
    assert other.publish(post(2)).remote_id == "outbox:2"
    assert one.publish(post(3)).remote_id == "outbox:3"
    assert len(lines_of(tmp_path / "outbox.jsonl")) == 3


@pytest.mark.parametrize("torn_when", ["before the adapter starts", "while it runs"])
def test_a_line_torn_by_a_crash_is_skipped_and_the_next_record_starts_a_new_line(
    tmp_path: Path, torn_when: str
) -> None:
    path = tmp_path / "outbox.jsonl"
    whole = json.dumps({"post_id": 1, "idempotency_key": "key-1"}) + "\n"
    # The crash hit while writing key-2's record: key-2 was never published.
    torn = '{"post_id": 2, "account": "main", "idempotency_key": "key-2", "te'
    if torn_when == "before the adapter starts":
        path.write_text(whole + torn)
        adapter = outbox(tmp_path)
    else:
        path.write_text(whole)
        adapter = outbox(tmp_path)
        with path.open("a") as handle:
            handle.write(torn)
    assert adapter.publish(post(1)).remote_id == "outbox:1"  # the whole line still counts
    published = adapter.publish(post(2))
    lines = lines_of(path)
    assert lines[:2] == [whole.rstrip("\n"), torn]
    assert json.loads(lines[2])["idempotency_key"] == "key-2"
    assert len(lines) == 3
    assert published.remote_id == "outbox:3"
    assert outbox(tmp_path).publish(post(2)) == published  # and a restart agrees


def test_unparseable_lines_are_skipped_but_counted(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    path.write_bytes(b"not json\n\xff\xfe\n[1, 2]\n\n")
    assert outbox(tmp_path).publish(post(1)).remote_id == "outbox:5"
    assert json.loads(path.read_bytes().split(b"\n")[4])["post_id"] == 1


@pytest.mark.parametrize("sharing", ["one adapter", "an adapter per thread"])
def test_concurrent_writers_never_interleave_lines(tmp_path: Path, sharing: str) -> None:
    # With an adapter per thread only the file lock keeps them apart, as between processes.
    shared = outbox(tmp_path)
    start = threading.Barrier(2)
    results: dict[str, Published] = {}
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        adapter = shared if sharing == "one adapter" else outbox(tmp_path)
        start.wait()
        try:
            for n in range(200):
                key = f"{name}-{n}"
                # Long enough that a record needs more than one small write to land.
                results[key] = adapter.publish(post(n, key=key, text=f"{key} " + "x" * 2000))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    lines = lines_of(tmp_path / "outbox.jsonl")
    assert len(lines) == 400
    keys = [json.loads(line)["idempotency_key"] for line in lines]
    assert sorted(keys) == sorted(results)
    for key, published in results.items():
        line = int(published.remote_id.removeprefix("outbox:"))
        assert keys[line - 1] == key
    for name in ("a", "b"):  # each writer's posts in the order it sent them
        mine = [k for k in keys if k.startswith(f"{name}-")]
        assert mine == [f"{name}-{n}" for n in range(200)]


def test_a_relative_outbox_path_starts_at_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    adapter = outbox(config_dir, path="runs/dry/posts.jsonl")
    published = adapter.publish(post(1))
    target = config_dir / "runs" / "dry" / "posts.jsonl"
    assert len(lines_of(target)) == 1  # the parent folders were created
    assert published.url == f"file://{target}#L1"
    assert list(elsewhere.iterdir()) == []


def test_an_absolute_outbox_path_is_used_as_is(tmp_path: Path) -> None:
    target = tmp_path / "abs" / "out.jsonl"
    outbox(tmp_path / "config", path=str(target)).publish(post(1))
    assert len(lines_of(target)) == 1


def test_creating_an_outbox_writes_nothing(tmp_path: Path) -> None:
    outbox(tmp_path, path="sub/outbox.jsonl")
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_outbox_option_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        outbox(tmp_path, path="o.jsonl", fail="always", colour="red")
    assert str(caught.value) == (
        'account "main": unknown option "colour" for network "outbox" (known: path); '
        'unknown option "fail" for network "outbox" (known: path)'
    )


def test_an_outbox_path_that_is_not_text_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match='option "path" must be a file path, got 3'):
        outbox(tmp_path, path=3)


def test_an_outbox_path_that_is_a_folder_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    with pytest.raises(InputError, match="cannot read the outbox .*taken"):
        outbox(tmp_path, path="taken")


def test_outbox_validates_only_emptiness(tmp_path: Path) -> None:
    adapter = outbox(tmp_path)
    assert adapter.validate("x" * 100_000) == []
    assert adapter.validate(" \n") == ["empty post"]
    with pytest.raises(Rejected, match="empty post"):
        adapter.publish(post(1, text=""))
    assert not (tmp_path / "outbox.jsonl").exists()


# --- the console --------------------------------------------------------------------------


def console(stream: io.StringIO | None = None, **options: object) -> ConsoleAdapter:
    settings = AccountSettings(name="main", network="console", options=options)
    return ConsoleAdapter(settings, {}, stream)


def test_console_prints_a_short_block_per_post() -> None:
    stream = io.StringIO()
    adapter = console(stream)
    adapter.publish(post(1, text="Read this\nthen that", url="https://example.com/x"))
    adapter.publish(post(2, text="No link here\n"))
    assert stream.getvalue() == (
        "[main · console] Read this\nthen that\n"
        "  https://example.com/x\n"
        "[main · console] No link here\n"
    )


def test_console_is_not_idempotent_and_counts_its_posts() -> None:
    stream = io.StringIO()
    adapter = console(stream)
    assert adapter.supports_idempotency is False
    assert adapter.publish(post(1)) == Published(remote_id="console:1")
    assert adapter.publish(post(1)) == Published(remote_id="console:2")  # printed again
    assert stream.getvalue().count("post number 1") == 2
    assert console(io.StringIO()).publish(post(1)).remote_id == "console:1"  # per instance


def test_console_writes_to_standard_output_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    console().publish(post(3))
    assert capsys.readouterr().out == "[main · console] post number 3\n"


def test_console_validates_only_emptiness() -> None:
    stream = io.StringIO()
    adapter = console(stream)
    assert adapter.validate("x" * 100_000) == []
    assert adapter.validate("") == ["empty post"]
    with pytest.raises(Rejected, match="empty post"):
        adapter.publish(post(1, text="  "))
    assert stream.getvalue() == ""


def test_console_takes_no_options() -> None:
    with pytest.raises(
        InputError, match=r'unknown option "width" for network "console" \(known: none\)'
    ):
        console(width=80)


def test_outbox_writes_each_images_path_type_alt_text_and_hash_never_its_bytes(
    tmp_path: Path,
) -> None:
    outbox(tmp_path).publish(post(7, media=(FIRST, SECOND)))
    (record,) = [json.loads(line) for line in lines_of(tmp_path / "outbox.jsonl")]
    assert record["media"] == [
        {"path": FIRST.source, "type": "image/png", "alt": FIRST.alt, "sha256": FIRST.sha256},
        {"path": SECOND.source, "type": "image/png", "alt": SECOND.alt, "sha256": SECOND.sha256},
    ]
    assert FIRST.data.hex() not in (tmp_path / "outbox.jsonl").read_text()


def test_console_shows_a_line_per_image_with_its_alt_text() -> None:
    stream = io.StringIO()
    console(stream).publish(post(3, media=(FIRST, SECOND)))
    assert stream.getvalue().splitlines()[1:] == [
        f"  [image {FIRST.source}: {FIRST.alt}]",
        f"  [image {SECOND.source}: {SECOND.alt}]",
    ]
