"""Publishing: planned posts go out at their times, each exactly once where the network allows.

- :mod:`~planner.publish.claims`: a claimed post and what came of it;
- :mod:`~planner.publish.claiming`: claiming an account's next due post, with the re-check;
- :mod:`~planner.publish.recheck`: the rule again at publish time, against what was published;
- :mod:`~planner.publish.pipeline`: claim, re-check, send, record (``planner run --once``);
- :mod:`~planner.publish.media`: a post's images, and the network's ids of those uploaded;
- :mod:`~planner.publish.group_commit`: the records of many publishing threads, committed
  together;
- :mod:`~planner.publish.scheduler`: ``planner run``, APScheduler as the clock;
- :mod:`~planner.publish.recovery`: account rows, missed slots and crash recovery;
- :mod:`~planner.publish.resolve`: a person settles a post whose fate is ``unknown``.

May import the config, the content queue, the plan, the store and the adapters; never the
reports or click.
"""
