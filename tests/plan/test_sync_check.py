"""The sync check itself: every account of an item is tried, each problem named once, the
example queue passes, and progress is reported for every item."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.adapters.x_length import measure
from planner.config.settings import load_config, parse_config
from planner.content.files import item_from_mapping, queue_file_paths, read_queue_files
from planner.errors import QueueFileError
from planner.plan.sync_check import ItemChecker

from support.renderers import CountingRenderer

REPO = Path(__file__).resolve().parents[2]
CONFIG = """\
[accounts.a]
network = "outbox"
slots = ["mon 09:00"]
[accounts.b]
network = "outbox"
slots = ["mon 09:00"]
[accounts.tiny]
network = "x"
slots = ["mon 09:00"]
[accounts.tiny.credentials]
oauth2_access_token_env = "X_TOKEN"
"""


def test_the_example_queue_passes_and_progress_counts_every_item() -> None:
    config = load_config(REPO / "config.example.toml")
    items = read_queue_files(queue_file_paths([REPO / "queue"]), config)
    seen: list[int] = []
    ItemChecker(config).check(items * 30, progress=seen.append)  # more than one batch
    assert sum(seen) == len(items) * 30 and len(seen) > 1


def test_a_render_error_is_named_once_for_all_its_accounts() -> None:
    config = parse_config(CONFIG, Path("planner.toml"))
    item = item_from_mapping(
        {"kind": "share", "text": "t", "url": "https://e.example/a", "credit": "c"},
        config,
        "command line",
    )
    failures = ItemChecker(config).failures(item)
    assert [(key, message.split(" (rendering")[1]) for _, key, message in failures] == [
        (("title",), ' for accounts "a", "b", "tiny")')
    ]


@pytest.mark.parametrize(("accounts", "refused"), [([], True), (["a", "b"], False)])
def test_length_is_measured_only_on_the_accounts_an_item_goes_to(
    accounts: list[str], refused: bool
) -> None:
    config = parse_config(CONFIG, Path("planner.toml"))
    data = {"kind": "help", "text": "x" * 300, "accounts": accounts}
    item = item_from_mapping({k: v for k, v in data.items() if v}, config, "command line")
    if refused:
        with pytest.raises(QueueFileError, match=r'account "tiny" \(x\): too long for X: 300/280'):
            ItemChecker(config).check([item])
    else:
        assert ItemChecker(config).failures(item) == []


def test_an_item_renders_once_a_network_and_is_measured_on_each_account() -> None:
    # Two instances with their own limits: one text (the built-in help template names no
    # account), measured against each account's own.
    config = parse_config(
        "\n".join(
            f'[accounts.{name}]\nnetwork = "mastodon"\nslots = ["mon 09:00"]\n'
            f'[accounts.{name}.options]\napi_base_url = "https://{name}.example"\n'
            f"max_characters = {limit}\n"
            for name, limit in (("big", 500), ("small", 100), ("other", 500))
        ),
        Path("planner.toml"),
    )
    item = item_from_mapping({"kind": "help", "text": "x" * 200}, config, "command line")
    renderer = CountingRenderer(None)
    failures = ItemChecker(config, renderer).failures(item)
    assert renderer.renders == 1
    assert [message.split(":")[0] for _, _, message in failures] == ['account "small" (mastodon)']


def test_a_text_for_many_x_accounts_is_weighed_once() -> None:
    config = parse_config(
        "\n".join(
            f'[accounts.{name}]\nnetwork = "x"\nslots = ["mon 09:00"]\n'
            f'[accounts.{name}.credentials]\noauth2_access_token_env = "X_TOKEN"\n'
            for name in ("one", "two", "three")
        ),
        Path("planner.toml"),
    )
    text = "A tip worth weighing once: https://brightline.example/tips/weighing " + "x" * 300
    item = item_from_mapping({"kind": "help", "text": text}, config, "command line")
    measure.cache_clear()
    failures = ItemChecker(config).failures(item)
    assert (measure.cache_info().misses, measure.cache_info().hits) == (1, 2)
    # Each account is still told, with the weight.
    assert [message.split(":")[0] for _, _, message in failures] == [
        f'account "{name}" (x)' for name in ("one", "two", "three")
    ]
