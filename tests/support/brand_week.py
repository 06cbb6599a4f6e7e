"""A brand with three accounts under different rules, planned for the preview page's tests.

- ``news``: the brand's 4:1 over 10 posts and 7 days, pitches 24 h apart, three slots a
  weekday and none at the weekend (its Saturday and Sunday collapse);
- ``shop``: its own 2:1 over 6 posts, no gap, slots on Mon, Wed, Fri and a typed promo slot
  on Tuesday; one promo is forced (an override);
- ``club``: New York time, the preset ``rule-of-thirds`` (pitch <= 1/3), one slot a day.

Promos outnumber what the rules allow, so some are held at the slots where the rule refused
them. Texts carry long URLs and hostile markup; ``tip-01`` carries two images. ``plan_brand``
plans 2026-W50 and W51 with the clock at ``NOW``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from planner.config.settings import Config, load_config
from planner.content.holds import release_item
from planner.store.database import open_database

from support import pipeline
from support.images import png

NOW = datetime(2026, 12, 1, tzinfo=UTC)  # a Tuesday; 2026-W50 is Mon 7 - Sun 13 December
WEEKS = [(2026, 50), (2026, 51)]
HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)> & "quotes" {{ 7*7 }}'
IMAGE_ALTS = ("Build minutes per week, falling", '<b>Cache</b> hit rate & "misses"')
LONG_URL = "https://docs.example.org/guides/continuous-integration/caching/lock-files-and-keys?utm_source=planner&utm_medium=social"

CONFIG = """\
timezone = "Europe/Berlin"

[database]
url = "{db_url}"

[balance]
give_to_pitch = "4:1"
window_posts = 10
window_days = 7
min_pitch_gap_hours = 24

[accounts.news]
network = "outbox"
slots = ["mon-fri 09:00", "mon-fri 13:00", "mon-fri 17:00"]

[accounts.shop]
network = "outbox"
slots = ["mon,wed,fri 10:00", "tue 14:30 promo"]

[accounts.shop.balance]
give_to_pitch = "2:1"
window_posts = 6
min_pitch_gap_hours = 0

[accounts.club]
network = "outbox"
timezone = "America/New_York"
slots = ["daily 12:00"]

[accounts.club.balance]
preset = "rule-of-thirds"
"""


def _queue() -> str:
    items = []
    for n in range(1, 41):
        text = f"Tip {n}: keep builds fast and caches warm."
        if n == 2:
            text = f"Tip 2: key the cache on the lock file, as {LONG_URL} explains."
        if n == 3:
            text = f"Tip 3 shows markup as text: {HOSTILE}"
        items.append(f'[[item]]\nid = "tip-{n:02d}"\nkind = "help"\ntext = """{text}"""\n')
        if n == 1:  # two images, described, one with markup in its alt text
            items.append(f'[[item.media]]\npath = "images/one.png"\nalt = "{IMAGE_ALTS[0]}"\n')
            items.append(f'[[item.media]]\npath = "images/two.png"\nalt = """{IMAGE_ALTS[1]}"""\n')
    for n in range(1, 13):
        items.append(
            f'[[item]]\nid = "share-{n:02d}"\nkind = "share"\ntitle = "Field notes {n}"\n'
            f'url = "https://blog.example.net/field-notes/{n}/a-rather-long-article-slug-'
            f'about-pipelines"\ncredit = "@writer{n}"\n'
        )
    for n in range(1, 9):
        items.append(
            f'[[item]]\nid = "promo-{n}"\nkind = "promo"\n'
            f'text = "Offer {n}: Brightline makes your builds faster."\npriority = {10 - n}\n'
        )
    return "\n".join(items)


def brand(tmp_path: Path, db_url: str) -> Config:
    (tmp_path / "queue" / "images").mkdir(parents=True)
    (tmp_path / "queue" / "images" / "one.png").write_bytes(png(60, 40, colour=10))
    (tmp_path / "queue" / "images" / "two.png").write_bytes(png(40, 60, colour=200))
    (tmp_path / "queue" / "items.toml").write_text(_queue())
    path = tmp_path / "planner.toml"
    path.write_text(CONFIG.format(db_url=db_url))
    return load_config(path)


def plan_brand(config: Config) -> None:
    """Sync, force one promo on ``shop`` (an override), plan both weeks."""
    pipeline.sync_and_plan(config, NOW, [])
    db = open_database(config.database_url)
    try:
        with db.transaction() as session:
            release_item(session, "promo-8", NOW, force=True, account="shop",
                         accounts=list(config.settings.accounts))  # fmt: skip
    finally:
        db.dispose()
    pipeline.sync_and_plan(config, NOW, WEEKS)
