"""The give-to-pitch rule: may this post be a pitch, here, given what came before?

- :mod:`~planner.rule.balancer`: the rule's settings (ratio, presets, windows, gap) and the
  balancer that answers at one instant, keeping running window counters;
- :mod:`~planner.rule.windows`: which posts a window ending at an instant holds, counted in
  one place for the balancer, the preview and the history.

Pure: plain values in (``now`` included), plain values out. May import the standard
library's value types and :mod:`planner.text`; never the store, a network, the clock or
click (``tests/test_layout.py`` checks it).
"""
