"""``planner simulate``: a week through the real publish pipeline, on a throw-away copy.

- :mod:`~planner.reports.simulate.run`: copy, run with a virtual clock, read back;
- :mod:`~planner.reports.simulate.formats`: the JSON document and the table's words (pure);
- :mod:`~planner.reports.simulate.terminal`: the table for a terminal (``rich``, loaded lazily).
"""
