"""The plan: queue items laid onto weekly slots under the rule.

The engine is pure (plain values in and out, ``now`` passed in):

- :mod:`~planner.plan.slots`: parse slot specs and lay them onto the instants of a week;
- :mod:`~planner.plan.mix`: which kind an open slot gets next (smooth weighted round-robin);
- :mod:`~planner.plan.model`: the engine's inputs and outputs (slots, candidates, placements);
- :mod:`~planner.plan.pools`: each account's candidates by kind, its deadlines, what it used;
- :mod:`~planner.plan.feeds`: the plain items read only as far as the slots need them;
- :mod:`~planner.plan.reserve`: keep typed pitch slots for their kind (a bounded lookahead);
- :mod:`~planner.plan.engine`: fill slots in time order, holding what the rule refuses;
- :mod:`~planner.plan.leftovers`: per account, why each item left out is held, waiting or
  expired.

Around it, the I/O:

- :mod:`~planner.plan.load`: what the engine needs, read from the config and the database;
- :mod:`~planner.plan.survey`: what a week's plan counts of the queue before reading it
  lazily, and which items it must read now;
- :mod:`~planner.plan.own_domains`: the stored flag of the items that mention an own domain,
  computed by a plan, read instead of searching the queue's text;
- :mod:`~planner.plan.history`: the posts a plan replaces, and those before it that it feels;
- :mod:`~planner.plan.ranges`: the planned weeks of each account as one SQL filter;
- :mod:`~planner.plan.render`: a post's text from its item, through the Jinja2 templates;
- :mod:`~planner.plan.sandbox`: the bounded Jinja2 sandbox templates run in (time, size);
- :mod:`~planner.plan.store`: ``planner plan``: load, run the engine, render, write;
- :mod:`~planner.plan.verdicts`: write the verdicts per (item, account) and each item's status;
- :mod:`~planner.plan.sync_check`: the same rendering and length check for items as
  ``queue sync`` and ``queue add`` write them, so plan does not find the problem weeks later.

The engine modules (slots, mix, model, pools, feeds, reserve, engine, leftovers) import only the
standard library's value types, :mod:`planner.rule` and each other (``tests/test_layout.py``
checks it). ``load``, ``survey``, ``own_domains``, ``history``, ``ranges``, ``render``,
``store``, ``verdicts`` and ``sync_check`` may import the config, the content queue, the
store and the adapters (for a network's length rule); never publishing, the reports or
click.
"""
