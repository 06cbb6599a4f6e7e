"""What the planner shows: the plan ahead, what went out, and what needs a person.

- :mod:`~planner.reports.preview`: ``planner preview``, a week per account in five formats;
- :mod:`~planner.reports.history`: ``planner history``, what was published and the ratio kept;
- :mod:`~planner.reports.simulate`: ``planner simulate``, a week through the real pipeline on
  a throw-away copy;
- :mod:`~planner.reports.queue_table`: ``planner queue list`` for a terminal;
- :mod:`~planner.reports.status`: ``planner status``, per account;
- :mod:`~planner.reports.terminal`: lines for a terminal drawn with ``rich`` (display widths,
  shortening, wrapping, colour), imported only by the commands that print a table.

Reports read; only ``simulate`` writes, and only to its own temporary copy. They may import
every stage below them (config, content, plan, publish, store, adapters); never click.
"""
