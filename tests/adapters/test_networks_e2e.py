"""One account on each network (X, Mastodon, Bluesky, Facebook Page, webhook), a real
`planner run --once` process, local fake servers that speak each network's API; then no
secret in any output, log line or table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, select, text

from planner.cli import main
from planner.config.settings import load_config
from planner.plan.store import idempotency_key
from planner.store.database import open_database
from planner.store.models import Item, ItemStatus, Post, PostStatus

from fakes.fake_bluesky import FakeBluesky
from fakes.fake_facebook import FakeGraphAPI
from fakes.fake_mastodon import FakeMastodon
from fakes.fake_webhook import FakeWebhook
from fakes.fake_x import FakeX
from support.images import png

SECRETS = {
    "E2E_X_KEY": "sekrit-x-consumer-key-1",
    "E2E_X_SECRET": "sekrit-x-consumer-secret-2",
    "E2E_X_TOKEN": "123-sekrit-x-access-token-3",
    "E2E_X_TOKEN_SECRET": "sekrit-x-token-secret-4",
    "E2E_MASTODON_TOKEN": "sekrit-mastodon-token-4711",
    "E2E_BLUESKY_PASSWORD": "sekr-itbs-kypa-ss11",
    "E2E_FACEBOOK_TOKEN": "sekrit-page-token-0815",
    "E2E_WEBHOOK_SECRET": "sekrit-hook-signing-2323",
}


@dataclass
class Fakes:
    x: FakeX
    mastodon: FakeMastodon
    bluesky: FakeBluesky
    facebook: FakeGraphAPI
    webhook: FakeWebhook


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    mastodon = FakeMastodon(token=SECRETS["E2E_MASTODON_TOKEN"])
    bluesky = FakeBluesky(app_password=SECRETS["E2E_BLUESKY_PASSWORD"])
    facebook = FakeGraphAPI(token=SECRETS["E2E_FACEBOOK_TOKEN"])
    webhook = FakeWebhook(secret=SECRETS["E2E_WEBHOOK_SECRET"])
    with FakeX() as x, mastodon, bluesky, facebook, webhook:
        yield Fakes(x, mastodon, bluesky, facebook, webhook)


def accounts(fakes: Fakes) -> dict[str, tuple[str, dict[str, str], dict[str, str]]]:
    """Account name -> network, options and credentials: one account on each fake."""
    return {
        "brand_x": (
            "x",
            {"api_base": fakes.x.url},
            {
                "api_key_env": "E2E_X_KEY",
                "api_secret_env": "E2E_X_SECRET",
                "access_token_env": "E2E_X_TOKEN",
                "access_token_secret_env": "E2E_X_TOKEN_SECRET",
            },
        ),
        "masto": (
            "mastodon",
            {"api_base_url": fakes.mastodon.url},
            {"access_token_env": "E2E_MASTODON_TOKEN"},
        ),
        "bsky": (
            "bluesky",
            {"handle": "brand.bsky.social", "service": fakes.bluesky.url},
            {"app_password_env": "E2E_BLUESKY_PASSWORD"},
        ),
        "fb": (
            "facebook",
            {"page_id": "1234567890", "graph_url": fakes.facebook.url},
            {"page_access_token_env": "E2E_FACEBOOK_TOKEN"},
        ),
        "hook": (
            "webhook",
            {"url": fakes.webhook.url},
            {"signing_secret_env": "E2E_WEBHOOK_SECRET"},
        ),
    }


def write_config(folder: Path, fakes: Fakes) -> Path:
    lines = ['timezone = "UTC"', "[run]", "min_spacing_seconds = 0"]
    for name, (network, options, credentials) in accounts(fakes).items():
        lines += ["", f"[accounts.{name}]", f"network = {json.dumps(network)}"]
        for table, values in (("options", options), ("credentials", credentials)):
            lines.append(f"[accounts.{name}.{table}]")
            lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    path = folder / "planner.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def seed(url: str, accounts: list[str], now: datetime) -> dict[str, list[int]]:
    db = open_database(url)
    posts: dict[str, list[int]] = {}
    with db.transaction() as session:
        for account in accounts:
            for n in range(3):
                at = now - timedelta(minutes=10 - n)
                item_id = f"{account}-tip-{n}"
                body = f"Tip {n} for {account}: read https://docs.example.org/{account}/{n}"
                session.add(Item(id=item_id, kind="help", text=body, source="test",
                                 content_hash="x", status=ItemStatus.PLANNED, accounts=[account],
                                 created_at=now, updated_at=now))  # fmt: skip
                post = Post(item_id=item_id, account=account, slot_at=at, kind="help",
                            is_pitch=False, text=body, status=PostStatus.PLANNED,
                            idempotency_key=idempotency_key(account, at, item_id),
                            created_at=now, updated_at=now)  # fmt: skip
                session.add(post)
                session.flush()
                posts.setdefault(account, []).append(post.id)
    db.dispose()
    return posts


def dump_tables(url: str) -> str:
    """Every row of every table, as text: where a leaked secret would show."""
    db = open_database(url)
    rows: list[str] = []
    with db.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            rows += [
                repr(tuple(row)) for row in connection.execute(text(f'SELECT * FROM "{table}"'))
            ]
    db.dispose()
    return "\n".join(rows)


def test_run_once_publishes_to_every_network_and_no_secret_leaks(
    tmp_path: Path, fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path = write_config(tmp_path, fakes)
    config = load_config(config_path)
    now = datetime.now(UTC)
    posts = seed(config.database_url, list(accounts(fakes)), now)
    env = {**os.environ, **SECRETS, "PLANNER_CONFIG": str(config_path)}
    run = subprocess.run(
        [sys.executable, "-m", "planner", "run", "--once", "--verbose"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "15 post(s) handled" in run.stdout

    db = open_database(config.database_url)
    with db.transaction() as session:
        published = session.execute(
            select(Post.account, Post.id, Post.status, Post.remote_id, Post.remote_url).order_by(
                Post.account, Post.slot_at
            )
        ).all()
    db.dispose()
    assert {row.status for row in published} == {PostStatus.PUBLISHED}
    assert all(row.remote_id for row in published)
    by_account: dict[str, list[Any]] = {}
    for row in published:
        by_account.setdefault(row.account, []).append(row)
    assert [r.id for r in by_account["masto"]] == posts["masto"]

    # What each network received, in slot order.
    tweets = [r.json["text"] for r in fakes.x.requests if r.path == "/2/tweets" and r.json]
    assert tweets == [
        f"Tip {n} for brand_x: read https://docs.example.org/brand_x/{n}" for n in range(3)
    ]
    assert [s["content"] for s in fakes.mastodon.statuses] == [
        f"<p>Tip {n} for masto: read https://docs.example.org/masto/{n}</p>" for n in range(3)
    ]
    assert [r["text"] for r in fakes.bluesky.records] == [
        f"Tip {n} for bsky: read https://docs.example.org/bsky/{n}" for n in range(3)
    ]
    assert fakes.bluesky.count("com.atproto.server.createSession") == 1  # one login per run
    feed_posts = [r for r in fakes.facebook.requests if r.path.endswith("/feed")]
    assert len(feed_posts) == 3
    hooks = [r for r in fakes.webhook.requests if r.method == "POST"]
    assert [json.loads(r.body)["post_id"] for r in hooks] == posts["hook"]

    # No secret anywhere a person or a log could see it.
    monkeypatch.setenv("PLANNER_CONFIG", str(config_path))
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    outputs = [run.stdout, run.stderr, dump_tables(config.database_url)]
    for args in (["status"], ["status", "--json"], ["history", "--json"], ["config", "check"],
                 ["config", "check", "--json"], ["preview", "--week", "this"]):  # fmt: skip
        result = CliRunner().invoke(main, args)
        assert result.exit_code in (0, 1), result.output
        outputs.append(result.output)
    everything = "\n".join(outputs)
    for value in SECRETS.values():
        assert value not in everything


@pytest.mark.parametrize("behaviour", ["rejected", "auth_failure"])
def test_run_once_exits_1_and_says_which_posts_need_a_person(
    tmp_path: Path, behaviour: str
) -> None:
    with FakeWebhook() as hook:
        hook.behaviour = behaviour
        path = tmp_path / "planner.toml"
        path.write_text(
            'timezone = "UTC"\n[run]\nmin_spacing_seconds = 0\n'
            '[accounts.ok]\nnetwork = "outbox"\n'
            f'[accounts.hook]\nnetwork = "webhook"\n[accounts.hook.options]\nurl = "{hook.url}"\n'
        )
        config = load_config(path)
        posts = seed(config.database_url, ["ok", "hook"], datetime.now(UTC))
        result = CliRunner().invoke(
            main, ["--config", str(path), "run", "--once", "--json"], catch_exceptions=False
        )
    assert result.exit_code == 1
    outcomes = {o["post"]: o for o in json.loads(result.stdout)["outcomes"]}
    assert [outcomes[p]["status"] for p in posts["ok"]] == ["published"] * 3
    assert all(outcomes[p]["url"] for p in posts["ok"])
    if behaviour == "rejected":  # each post fails on its own; the others are still tried
        stuck = [(p, "failed") for p in posts["hook"]]
        assert [outcomes[p]["status"] for p in posts["hook"]] == ["failed"] * 3
    else:  # the first refusal pauses the account; its posts stay planned
        stuck = [(posts["hook"][0], "account paused")]
        first = outcomes[posts["hook"][0]]
        assert (first["status"], first["account_paused"]) == ("planned", True)
        assert not set(posts["hook"][1:]) & set(outcomes)
    which = ", ".join(f"{post} ({why})" for post, why in stuck)
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: post(s) that need a person: {which}; see planner status"
    )


def test_run_json_without_once_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "planner.toml"
    path.write_text('timezone = "UTC"\n[accounts.ok]\nnetwork = "outbox"\n')
    result = CliRunner().invoke(main, ["--config", str(path), "run", "--json"])
    assert result.exit_code == 2
    assert "--json goes with --once" in result.output


def test_a_revoked_mastodon_token_pauses_the_account_and_says_so(tmp_path: Path) -> None:
    # Issue 9: a 401 was reported as a missing scope. It is a wrong or revoked token.
    with FakeMastodon(token="the-token-the-instance-knows") as instance:
        instance.behaviour = "unauthorized"
        path = tmp_path / "planner.toml"
        path.write_text(
            'timezone = "UTC"\n[run]\nmin_spacing_seconds = 0\n[accounts.masto]\n'
            'network = "mastodon"\ncredentials = { access_token_env = "E2E_REVOKED" }\n'
            f'options = {{ api_base_url = "{instance.url}" }}\n'
        )
        config = load_config(path)
        posts = seed(config.database_url, ["masto"], datetime.now(UTC))
        env = {"E2E_REVOKED": "a-revoked-token-4242"}
        ran = CliRunner().invoke(main, ["--config", str(path), "run", "--once", "--json"], env=env)
        status = CliRunner().invoke(main, ["--config", str(path), "status", "--json"], env=env)
    assert ran.exit_code == 1
    first = json.loads(ran.stdout)["outcomes"][0]
    assert (first["post"], first["status"], first["account_paused"]) == (
        posts["masto"][0],
        "planned",
        True,
    )
    reason = json.loads(status.output)["accounts"]["masto"]["paused_reason"]
    assert "does not accept the access token in E2E_REVOKED: it is wrong, expired or revoked" in (
        reason
    )
    assert "scope" not in reason
    assert "a-revoked-token-4242" not in ran.output + status.output


def test_run_once_publishes_a_synced_item_with_two_images_to_every_network(
    tmp_path: Path, fakes: Fakes
) -> None:
    config_path = write_config(tmp_path, fakes)
    chart, shot = png(4, 3, colour=1), png(3, 5, colour=2)
    (tmp_path / "queue").mkdir()
    (tmp_path / "queue" / "chart.png").write_bytes(chart)
    (tmp_path / "queue" / "shot.png").write_bytes(shot)
    (tmp_path / "queue" / "tips.toml").write_text(
        '[[item]]\nid = "pictured"\nkind = "help"\ntext = "Cache by lock file hash."\n'
        '[[item.media]]\npath = "chart.png"\nalt = "Build minutes: 14, then 6"\n'
        '[[item.media]]\npath = "shot.png"\nalt = "The cache key setting"\n'
    )
    env = {**os.environ, **SECRETS, "PLANNER_CONFIG": str(config_path)}
    synced = subprocess.run([sys.executable, "-m", "planner", "queue", "sync"], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert synced.returncode == 0, synced.stdout + synced.stderr
    config = load_config(config_path)
    now = datetime.now(UTC)
    db = open_database(config.database_url)
    with db.transaction() as session:
        for account in accounts(fakes):
            at = now - timedelta(minutes=5)
            session.add(Post(item_id="pictured", account=account, slot_at=at, kind="help",
                             is_pitch=False, text="Cache by lock file hash.",
                             status=PostStatus.PLANNED,
                             idempotency_key=idempotency_key(account, at, "pictured"),
                             created_at=now, updated_at=now))  # fmt: skip
    db.dispose()
    run = subprocess.run([sys.executable, "-m", "planner", "run", "--once"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    alts = ["Build minutes: 14, then 6", "The cache key setting"]

    assert [u["data"] for u in fakes.x.uploads] == [chart, shot]
    assert [u["alt"] for u in fakes.x.uploads] == alts
    assert fakes.x.tweets[0]["media_ids"] == [u["id"] for u in fakes.x.uploads]
    assert [m["data"] for m in fakes.mastodon.media] == [chart, shot]
    assert [m["description"] for m in fakes.mastodon.media] == alts
    assert [a["id"] for a in fakes.mastodon.statuses[0]["media_attachments"]] == [
        m["id"] for m in fakes.mastodon.media
    ]
    assert [b["data"] for b in fakes.bluesky.blobs] == [chart, shot]
    images = fakes.bluesky.records[0]["embed"]["images"]
    assert [i["alt"] for i in images] == alts
    assert [i["image"]["ref"]["$link"] for i in images] == [b["cid"] for b in fakes.bluesky.blobs]
    assert [p["data"] for p in fakes.facebook.photos] == [chart, shot]
    assert {p["post"] for p in fakes.facebook.photos} == {f"{fakes.facebook.page_id}_1001"}
    assert [i["data"] for i in fakes.webhook.images(0)] == [chart, shot]
