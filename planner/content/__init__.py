"""The content queue: where items come from and what state they are in.

- :mod:`~planner.content.files`: read and validate ``queue/*.toml``, all or nothing;
- :mod:`~planner.content.csv_import`: read a CSV file of items (``queue import``), all or
  nothing;
- :mod:`~planner.content.feed_sync`: ``feeds sync``, each feed fetched, read and stored;
- :mod:`~planner.content.feed_fetch`: one feed fetched (conditional GET, timeout, size cap);
- :mod:`~planner.content.feed_entries`: a feed document read with feedparser, links made
  canonical;
- :mod:`~planner.content.feed_items`: a feed's entries as queue items, under its rules;
- :mod:`~planner.content.item_spec`: one item as written, and the limits of what it may say;
- :mod:`~planner.content.media_files`: an item's images read at sync (a file or a URL),
  resized when asked;
- :mod:`~planner.content.media_store`: items' images in the database;
- :mod:`~planner.content.images`: an image's type and size, from its bytes (pure);
- :mod:`~planner.content.media_limits`: what each network takes as images (pure);
- :mod:`~planner.content.store`: the queue in the database (sync, add, list);
- :mod:`~planner.content.holds`: holding and releasing items by hand;
- :mod:`~planner.content.lookup`: an item by the id a person typed, with "did you mean";
- :mod:`~planner.content.removal`: archiving an item added by hand (``queue remove``);
- :mod:`~planner.content.etiquette`: the etiquette lint of one item (pure);
- :mod:`~planner.content.lint_state`: the lint applied to the queue (warnings, ``flagged``);
- :mod:`~planner.content.links`: links in a text, and whether they point at an own domain
  (pure).

May import :mod:`planner.config`, :mod:`planner.store` and the pure packages; never the
plan, publishing, the reports or click.
"""
