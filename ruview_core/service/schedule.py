"""Learning on its own: every few hours each trained room learns from its sensors' label events.

Camera-free supervision is meant to improve a room without asking its owner again. A room with
nothing to learn from yet (no baseline, no bank, no label events, no live windows) or a job
running is left alone until the next round; each learn job reports whether its update was kept.
"""

from __future__ import annotations

import asyncio
import logging

from .hub import RuViewService
from .registry import RegistryError
from .tasks import start_learning

LOG = logging.getLogger("ruview.service")


def learn_due_rooms(service: RuViewService) -> list[str]:
    """Start a learn job in every room that can learn now; returns those rooms."""
    started = []
    for room in sorted(service.registry.rooms):
        if service.jobs.running(room) is not None:
            continue
        try:
            start_learning(service, room, {})
        except RegistryError:
            continue  # nothing to learn from yet
        started.append(room)
    if started:
        LOG.info("learning from the rooms' own sensors: %s", ", ".join(started))
    return started


async def learn_periodically(service: RuViewService, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        learn_due_rooms(service)
