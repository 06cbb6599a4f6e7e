"""The target mix: which kind an open slot should get next.

Smooth weighted round-robin (the scheme nginx uses to spread requests over weighted
upstreams): every slot, each kind that could be served gains its weight; the kind with the
most credit is the most under-served and goes next, and pays back the total weight. Over any
stretch of slots each kind gets close to its share, and kinds interleave instead of coming
in blocks ("share share share share help help help promo" becomes
"share help share help promo share help share").

When the chosen kind cannot be used (a pitch the balancer refuses), the caller serves the
next best kind instead and only that one pays: the refused kind keeps its credit, so it is
offered again at the very next slot. That is how held promos are retried at every later slot.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class Mix:
    """The round-robin state of one account."""

    def __init__(self, weights: Mapping[str, int]) -> None:
        self._weights = dict(weights)
        self._order = {kind: index for index, kind in enumerate(weights)}
        self._credit = dict.fromkeys(weights, 0)

    def credit(self, kind: str) -> int:
        return self._credit[kind]

    def tick(self, kinds: Iterable[str]) -> list[str]:
        """A slot passes with ``kinds`` available: credit them; return them best first.

        "Best" is the most credit, then the order the kinds were configured in.
        """
        available = [kind for kind in kinds if self._weights.get(kind, 0) > 0]
        for kind in available:
            self._credit[kind] += self._weights[kind]
        return sorted(available, key=lambda kind: (-self._credit[kind], self._order[kind]))

    def served(self, kind: str, among: Iterable[str]) -> None:
        """``kind`` took the slot; it pays back the total weight of the kinds that competed."""
        if kind in self._credit and self._weights.get(kind, 0) > 0:
            self._credit[kind] -= sum(self._weights.get(other, 0) for other in among)
