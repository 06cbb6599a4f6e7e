"""A feed's entries as queue items, under the feed's rules (``[feeds.NAME]``).

For each entry, in order from the newest:

- published before the feed's ``since`` (on the first sync: ``first_sync_days`` ago): left
  out, so a first sync takes the recent entries, not the archive; an undated entry counts as
  published when it is read;
- ``include`` (any of its words) and ``exclude`` (none of them) match the title and summary,
  ignoring case;
- ``max_per_week``: at most that many items per week of publication, counting the feed's
  items stored before; an entry already stored is always updated;
- an entry linking to one of the brand's ``own_domains`` is your own promotion: it gets the
  feed's ``pitch_kind`` (default ``promo``) and the tag ``own-domain``.

The item's id is ``feed:NAME:`` and a hash of the entry's GUID (else its link), so the same
entry is the same item at every sync; title, canonical link, credit (the feed's ``credit``,
else the entry's author, else the feed's title) and publication date (``published``, a
template field) come from the entry; ``not_after`` is the publication date plus
``not_after_days``. The entry's image (its enclosure or ``media:content``), if any, is
fetched before the database is locked (:func:`entry_images`) and becomes the item's image,
with the entry's title as its alt text; an image that cannot be fetched leaves the item
without it. An entry that would not make a valid item (a
share without a link) is left out with the reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from planner.config.problems import describe_errors
from planner.config.schema import FeedConfig
from planner.config.settings import Config
from planner.content.feed_entries import FeedEntry, ParsedFeed, one_line
from planner.content.files import QueueItem, resolve_item
from planner.content.item_spec import ITEM_KEYS, ItemSpec, MediaSpec
from planner.content.links import own_domain_link
from planner.content.media_files import MediaFile, load_media

SOURCE_PREFIX = "feed:"
OWN_DOMAIN_TAG = "own-domain"


def feed_source(name: str) -> str:
    """The source recorded for a feed's items."""
    return SOURCE_PREFIX + name


def entry_id(name: str, entry: FeedEntry) -> str:
    return f"feed:{name}:{entry.digest()[:16]}"


def week_of(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class FeedItems:
    """What a feed's entries became: items to store, and how many were left out and why."""

    items: list[QueueItem] = field(default_factory=list)
    too_old: int = 0
    filtered: int = 0
    over_cap: int = 0
    invalid: list[str] = field(default_factory=list)  # "title: reason", one per entry

    @property
    def skipped(self) -> int:
        return self.too_old + self.filtered + self.over_cap + len(self.invalid)


def feed_items(
    name: str,
    feed: FeedConfig,
    config: Config,
    parsed: ParsedFeed,
    *,
    since: datetime,
    now: datetime,
    stored: Iterable[tuple[str, str | None]] = (),
    images: Mapping[str, MediaFile] | None = None,
) -> FeedItems:
    """The items ``parsed``'s entries make; see the module docstring.

    ``stored`` is (id, week of publication) for each item of this feed already stored.
    ``images`` are the entries' images by URL, fetched beforehand by :func:`entry_images`
    (no fetch happens here, so none while the caller holds the database's write lock); an
    entry whose image is not there goes without it.
    """
    out = FeedItems()
    known = dict(stored)
    per_week = Counter(week for week in known.values() if week)
    include = [word.lower() for word in feed.include]
    exclude = [word.lower() for word in feed.exclude]
    newest_first = sorted(parsed.entries, key=lambda e: e.published or now, reverse=True)
    seen: set[str] = set()
    for entry in newest_first:
        item_id = entry_id(name, entry)
        if item_id in seen:
            continue  # the same GUID twice in one document: the newest counts
        seen.add(item_id)
        published = entry.published or now
        if published < since:
            out.too_old += 1
            continue
        words = f"{entry.title or ''} {entry.summary}".lower()
        if (include and not any(w in words for w in include)) or any(w in words for w in exclude):
            out.filtered += 1
            continue
        week = week_of(published)
        if item_id not in known and feed.max_per_week is not None:
            if per_week[week] >= feed.max_per_week:
                out.over_cap += 1
                continue
            per_week[week] += 1
        found = images or {}
        item, problem = _item(name, feed, config, parsed, entry, item_id, published, found)
        if item is None:
            out.invalid.append(f"{one_line(entry.title or entry.key, 60)}: {problem}")
            continue
        out.items.append(item)
    return out


def _item(
    name: str,
    feed: FeedConfig,
    config: Config,
    parsed: ParsedFeed,
    entry: FeedEntry,
    item_id: str,
    published: datetime,
    images: Mapping[str, MediaFile],
) -> tuple[QueueItem | None, str]:
    own = own_domain_link([entry.link] if entry.link else [], config.settings.own_domains)
    tags = sorted({*feed.tags, *([OWN_DOMAIN_TAG] if own else [])})
    data: dict[str, Any] = {
        "id": item_id,
        "kind": feed.pitch_kind if own else feed.kind,
        "title": entry.title or entry.link,
        "url": entry.link,
        "credit": feed.credit or entry.author or parsed.title,
        "accounts": list(feed.accounts),
        "tags": tags,
        "priority": feed.priority,
        "fields": {"feed": name, "published": published.astimezone(UTC).isoformat()},
    }
    image = images.get(entry.image) if entry.image is not None else None
    if image is not None:  # described by the entry's title: all a feed says of it
        image = replace(image, alt=entry.title or entry.link or "image")
        data["media"] = [{"url": image.source, "alt": image.alt}]
    if feed.not_after_days is not None:
        try:
            data["not_after"] = published + timedelta(days=feed.not_after_days)
        except OverflowError:
            return None, f"published {published.date().isoformat()}: not a plannable date"
    data = {key: value for key, value in data.items() if value is not None}
    try:
        spec = ItemSpec.model_validate(data)
    except ValidationError as exc:
        loc, message = describe_errors(exc, ITEM_KEYS)[0]
        return None, f"{loc[0] if loc else 'entry'}: {message}"
    media = [image] if image is not None else []
    item, problems = resolve_item(spec, config, feed_source(name), media=media)
    if item is None:
        loc, message = problems[0]
        return None, f"{loc[0] if loc else 'entry'}: {message}"
    return item, ""


def entry_images(parsed: ParsedFeed, config: Config, since: datetime) -> dict[str, MediaFile]:
    """The images of the entries published since ``since`` (undated ones too), fetched now,
    by URL; one that cannot be fetched or is not an image is left out."""
    urls = {
        entry.image
        for entry in parsed.entries
        if entry.image is not None and (entry.published is None or entry.published >= since)
    }
    found: dict[str, MediaFile] = {}
    for url in sorted(urls):
        files, problems = load_media(
            [MediaSpec(url=url, alt="image")], config.base_dir, config.settings.media
        )
        if files and not problems:
            found[url] = files[0]
    return found
