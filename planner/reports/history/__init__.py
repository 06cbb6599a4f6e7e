"""``planner history``: what was published, and whether the give:pitch rule held, over time.

- :mod:`~planner.reports.history.read`: published posts, grouped by week or day, with the
  windows of the rule;
- :mod:`~planner.reports.history.formats`: the JSON document and the table's words (pure);
- :mod:`~planner.reports.history.terminal`: the table for a terminal (``rich``, loaded lazily).
"""
