"""``planner preview``: one ISO week per account, with why each slot got what it got.

- :mod:`~planner.reports.preview.read`: read the week's posts, items and history;
- :mod:`~planner.reports.preview.rows`: what is read, as plain rows (posts, queue, verdicts);
- :mod:`~planner.reports.preview.thumbnails`: small thumbnails of posts' images (Pillow);
- :mod:`~planner.reports.preview.compose`: one account's week composed from them (pure);
- :mod:`~planner.reports.preview.model`: the preview as plain data, and the ``--check`` verdict;
- :mod:`~planner.reports.preview.formats`: JSON and Markdown, and the words every format shares;
- :mod:`~planner.reports.preview.terminal`: the table for a terminal (``rich``, loaded lazily);
- :mod:`~planner.reports.preview.refusals`: where the rule held a pitch, and by how much (pure);
- :mod:`~planner.reports.preview.html`: the page for a browser: the mix drawn, the week grid;
- :mod:`~planner.reports.preview.chart`: the page's chart and mix bars as numbers (pure);
- :mod:`~planner.reports.preview.output`: ``--output`` written atomically, ``--open``;
- :mod:`~planner.reports.preview.ics`: the iCalendar file for calendar apps.
"""
