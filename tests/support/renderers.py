"""A real renderer that counts its renders: what tests of render-once shortcuts check."""

from __future__ import annotations

from typing import Any

from planner.plan.render import Renderer, RenderInput


class CountingRenderer(Renderer):
    """The real renderer, counting its renders."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.renders = 0

    def render(self, item: RenderInput, network: str, account: str) -> str:
        self.renders += 1
        return super().render(item, network, account)
