"""A post with images through the whole pipeline, on SQLite and PostgreSQL: the images synced
from a queue file reach the network through the real client library, and a post retried
after the network failed between the uploads and the post attaches what it uploaded the first
time instead of uploading it again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from planner.adapters.mastodon import MastodonAdapter
from planner.config.settings import Config, parse_config
from planner.plan.store import idempotency_key
from planner.publish.media import remember_upload, upload_ids
from planner.publish.pipeline import Publisher
from planner.publish.recovery import ensure_account_rows
from planner.store.database import Database, open_database
from planner.store.models import Post, PostMedia, PostStatus, PublishAttempt

from fakes.fake_mastodon import FakeMastodon
from support.images import png
from support.pipeline import sync_and_plan

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TOKEN = "media-test-token"


@pytest.fixture
def server() -> Iterator[FakeMastodon]:
    with FakeMastodon(token=TOKEN) as fake:
        yield fake


@pytest.fixture
def config(tmp_path: Path, db_url: str, server: FakeMastodon) -> Config:
    (tmp_path / "queue" / "img").mkdir(parents=True)
    (tmp_path / "queue" / "img" / "chart.png").write_bytes(png(4, 3, colour=1))
    (tmp_path / "queue" / "img" / "shot.png").write_bytes(png(3, 5, colour=2))
    (tmp_path / "queue" / "tips.toml").write_text(
        '[[item]]\nid = "tip"\nkind = "help"\ntext = "Cache by lockfile hash."\n'
        '[[item.media]]\npath = "img/chart.png"\nalt = "Build minutes, before and after"\n'
        '[[item.media]]\npath = "img/shot.png"\nalt = "The cache settings page"\n'
    )
    text = (
        f'[database]\nurl = "{db_url}"\n[run]\nretry_base_seconds = 60\n'
        f'[accounts.m]\nnetwork = "mastodon"\n'
        f'options = {{ api_base_url = "{server.url}" }}\n'
        'credentials = { access_token_env = "M_TOKEN" }\n'
    )
    return parse_config(text, tmp_path / "planner.toml")


@pytest.fixture
def db(config: Config) -> Iterator[Database]:
    database = open_database(config.database_url)
    yield database
    database.dispose()


def planned_post(db: Database) -> int:
    with db.transaction() as session:
        post = Post(item_id="tip", account="m", slot_at=NOW, kind="help", is_pitch=False,
                    text="Cache by lockfile hash.", status=PostStatus.PLANNED,
                    idempotency_key=idempotency_key("m", NOW, "tip"),
                    created_at=NOW, updated_at=NOW)  # fmt: skip
        session.add(post)
        session.flush()
        return post.id


def publisher(db: Database, config: Config) -> Publisher:
    adapter = MastodonAdapter(
        config.account_settings("m"), {"M_TOKEN": TOKEN}, sleep=lambda seconds: None
    )
    ensure_account_rows(db, config)
    return Publisher(db, config, "worker-1", {}, {"m": adapter})


def failed_first_attempt(
    config: Config, db: Database, server: FakeMastodon
) -> tuple[Publisher, int]:
    """The item synced and its post claimed at NOW; its images go up, then the instance
    refuses the status (503): the post is to be retried. The instance answers again after."""
    sync_and_plan(config, NOW - timedelta(days=1), [])
    post_id = planned_post(db)
    runner = publisher(db, config)
    server.status_behaviour = "unavailable"
    claim = runner.claim("m", NOW)
    assert claim is not None and claim.post is not None and claim.post.has_media
    assert runner.publish(claim.post, NOW).status == PostStatus.RETRY
    assert len(server.media) == 2 and server.statuses == []
    server.status_behaviour = "ok"
    return runner, post_id


def test_a_post_retried_after_its_uploads_attaches_them_without_uploading_again(
    config: Config, db: Database, server: FakeMastodon
) -> None:
    runner, post_id = failed_first_attempt(config, db, server)
    uploads = [m["id"] for m in server.media]
    assert upload_ids(db, post_id) == {0: uploads[0], 1: uploads[1]}

    later = NOW + timedelta(minutes=2)
    retry = runner.claim("m", later)
    assert retry is not None and retry.post is not None and retry.post.post_id == post_id
    assert runner.publish(retry.post, later).status == PostStatus.PUBLISHED
    assert [m["id"] for m in server.media] == uploads  # nothing uploaded the second time
    (status,) = server.statuses
    assert [a["id"] for a in status["media_attachments"]] == uploads
    assert [m["description"] for m in server.media] == [
        "Build minutes, before and after",
        "The cache settings page",
    ]
    assert [m["data"] for m in server.media] == [png(4, 3, colour=1), png(3, 5, colour=2)]


def test_uploads_older_than_the_networks_window_are_uploaded_again(
    config: Config, db: Database, server: FakeMastodon
) -> None:
    runner, _ = failed_first_attempt(config, db, server)
    much_later = NOW + timedelta(days=2)  # the instance has cleaned up unattached media
    retry = runner.claim("m", much_later)
    assert retry is not None and retry.post is not None
    assert runner.publish(retry.post, much_later).status == PostStatus.PUBLISHED
    assert len(server.media) == 4
    (status,) = server.statuses
    assert [a["id"] for a in status["media_attachments"]] == [m["id"] for m in server.media[2:]]


def test_a_post_taken_out_of_the_plan_takes_its_upload_ids_along(
    config: Config, db: Database, server: FakeMastodon
) -> None:
    _, post_id = failed_first_attempt(config, db, server)
    assert upload_ids(db, post_id)
    with db.transaction() as session:  # as a re-plan deletes a post (its attempts aside)
        session.execute(delete(PublishAttempt).where(PublishAttempt.post_id == post_id))
        session.execute(delete(Post).where(Post.id == post_id))
    with db.reading() as session:
        assert session.scalars(select(PostMedia)).all() == []


def test_an_upload_is_recorded_only_while_this_runner_holds_the_claim(
    config: Config, db: Database
) -> None:
    sync_and_plan(config, NOW - timedelta(days=1), [])
    post_id = planned_post(db)
    assert not remember_upload(db, "worker-1", post_id, 0, "ab" * 32, "m-1", NOW)  # planned
    runner = publisher(db, config)
    claim = runner.claim("m", NOW)
    assert claim is not None and claim.post is not None
    assert not remember_upload(db, "worker-2", post_id, 0, "ab" * 32, "m-1", NOW)
    assert remember_upload(db, "worker-1", post_id, 0, "ab" * 32, "m-1", NOW)
    assert upload_ids(db, post_id) == {0: "m-1"}
