"""The windows of the give-to-pitch rule: which posts they hold, counted in one place.

A window *ending at* an instant ``at`` holds some of the posts up to ``at``:

- the count window: the last ``window_posts`` posts;
- the days window: the posts at times in ``(at - window_days, at]`` (a post exactly
  ``window_days`` before ``at`` is out).

A window's share is pitches/total (0 for an empty window). With both windows configured the
fullest one speaks for the rule, the count window on a tie: :func:`fullest`.

:class:`WindowCounts` keeps posts in time order with prefix counts, so every window is the
difference of two entries. The planner's :class:`planner.rule.balancer.WindowTracker`, the preview
and the history all measure through it; :func:`planner.rule.balancer.max_window_share` is the
independent recount it is tested against.

Pure: standard library only, no clock, no I/O.
"""

from __future__ import annotations

import copy
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from planner.text import plural


@dataclass(frozen=True, slots=True)
class Window:
    """``pitches`` pitch posts, ``forced`` of them forced, among the ``total`` posts of a window."""

    pitches: int
    total: int
    forced: int
    name: str  # "10 posts", "7 days"

    @property
    def share(self) -> Fraction:
        return Fraction(self.pitches, self.total) if self.total else Fraction(0)

    def __str__(self) -> str:
        return f"{self.pitches}/{self.total}"


def fullest(windows: Sequence[Window]) -> Window:
    """The window with the highest share; of equal ones the first (the count window comes
    first from :class:`WindowCounts`). ``windows`` must not be empty.
    """
    # Counts cross-multiplied rather than Fractions compared: the planner asks this for every
    # slot a pitch is offered. The second test covers an empty best window (share 0).
    best = windows[0]
    for window in windows[1:]:
        if window.pitches * best.total > best.pitches * window.total or (
            not best.total and window.pitches
        ):
            best = window
    return best


class WindowCounts:
    """Posts in time order, and the windows ending at any of them or at any later instant.

    :meth:`append` is O(1) amortized, :meth:`compact` included. The count window costs O(1);
    the days window O(1) while its oldest post is still inside it, else O(log n) (a binary
    search). ``ValueError`` for settings without a window and for posts out of time order.
    """

    # Dropping dead posts from the front only when there are many keeps that O(1) amortized.
    _COMPACT_AT = 64

    def __init__(self, window_posts: int | None, window_days: float | None) -> None:
        if window_posts is None and window_days is None:
            raise ValueError("at least one window is needed: set window_posts, window_days or both")
        self._size = window_posts
        self._span = timedelta(days=window_days) if window_days is not None else None
        # Named once here: the names go into every Window.
        self._size_name = plural(window_posts, "post") if window_posts is not None else ""
        self._span_name = plural(window_days, "day") if window_days is not None else ""
        self._times: list[datetime] = []
        # _pitches[i]: pitches among every post appended before the i-th one kept (compacted
        # posts included), so any range's count is a difference of two entries; _forced too.
        self._pitches = [0]
        self._forced = [0]
        self._live = 0  # the first post inside the days window ending at the last post

    def __len__(self) -> int:
        return len(self._times)

    @property
    def times(self) -> Sequence[datetime]:
        """The kept posts' times, oldest first; index i is post i of :meth:`windows_through`."""
        return self._times

    def append(self, at: datetime, is_pitch: bool, forced: bool = False) -> None:
        """Add a post at ``at``, not before the last one. ``forced`` counts only for a pitch."""
        times = self._times
        if times and at < times[-1]:
            raise ValueError(f"{at.isoformat()} is before the last post at {times[-1].isoformat()}")
        times.append(at)
        self._pitches.append(self._pitches[-1] + int(is_pitch))
        self._forced.append(self._forced[-1] + int(is_pitch and forced))
        if self._span is not None:
            cut = at - self._span
            while times[self._live] <= cut:
                self._live += 1

    def windows(self, at: datetime, *, candidate: bool | None = None) -> list[Window]:
        """The configured windows ending at ``at`` (not before the last post), count window first.

        With ``candidate`` (True: a pitch, False: a give) one more post at ``at``, not appended,
        is counted in every window: what the rule measures before placing a post.
        """
        count = len(self._times)
        first_inside = self._live
        # _live is the start as of the last post; only a jump forward in time can push more
        # posts out, and then a binary search finds the new start.
        if self._span is not None and first_inside < count:
            cut = at - self._span
            if self._times[first_inside] <= cut:
                first_inside = bisect_right(self._times, cut, first_inside, count)
        if candidate is None:
            return self._between(count, first_inside, 0, 0)
        return self._between(count, first_inside, 1, int(candidate))

    def windows_through(self, index: int) -> list[Window]:
        """The configured windows ending at post ``index``, it included and the posts after it
        left out (even at the same instant), count window first.

        Exact only while nothing was compacted away: :meth:`compact` keeps just the posts that
        windows ending at or after the last post need.
        """
        end = index + 1
        first_inside = 0
        if self._span is not None:
            first_inside = bisect_right(self._times, self._times[index] - self._span, 0, index)
        return self._between(end, first_inside, 0, 0)

    def compact(self) -> None:
        """Forget the posts no window ending at or after the last post can hold, once there
        are enough of them to be worth it (O(1) amortized)."""
        keep_from = len(self._times)
        if self._size is not None:
            keep_from -= self._size
        if self._span is not None:
            keep_from = min(keep_from, self._live)
        if keep_from < self._COMPACT_AT or 2 * keep_from < len(self._times):
            return
        del self._times[:keep_from]
        del self._pitches[:keep_from]
        del self._forced[:keep_from]
        self._live = max(self._live - keep_from, 0)  # stays 0 without a days window

    def copy(self) -> WindowCounts:
        """Independent counts with the same posts (costs O(posts kept))."""
        twin = copy.copy(self)
        twin._times, twin._pitches = self._times.copy(), self._pitches.copy()
        twin._forced = self._forced.copy()
        return twin

    def _between(self, end: int, first_inside: int, extra: int, extra_pitch: int) -> list[Window]:
        """The windows over the first ``end`` posts, the days window from ``first_inside``,
        with ``extra`` more posts (``extra_pitch`` of them pitches) at the end."""
        pitches, forced = self._pitches, self._forced
        found: list[Window] = []
        if self._size is not None:
            first = max(end - self._size + extra, 0)
            found.append(
                Window(
                    pitches[end] - pitches[first] + extra_pitch,
                    end - first + extra,
                    forced[end] - forced[first],
                    self._size_name,
                )
            )
        if self._span is not None:
            found.append(
                Window(
                    pitches[end] - pitches[first_inside] + extra_pitch,
                    end - first_inside + extra,
                    forced[end] - forced[first_inside],
                    self._span_name,
                )
            )
        return found
