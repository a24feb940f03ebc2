"""A breath hold played by the simulator, sent over UDP to the real add-on, fires the room's
breathing-pause event entity in Home Assistant: once per pause, with its duration."""

from __future__ import annotations

from typing import Any

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event

from ruview_core.sim import SimConfig, simulate

from ._addon import NODES, ROOM_SEED, Addon, enroll_offline, wait_for
from .conftest import hub_entry, room_subentry, set_up

ENTITY = "event.den_breathing_pause"
# Three antennas a node and a clean channel: the simulated chest's rhythm commits within ~30 s
# there (with one antenna at the default SNR the estimator rarely commits a rate, so no pause can
# be told from it: see benchmarks/bench_accuracy.py). One node of the room sends: the simulator
# shares the process with the add-on, and on a busy machine two nodes' packets come in bursts.
SIM = {"n_antennas": 3, "snr_db": 30.0}
PERSON = 4006  # the person of tests/engine/test_pause_events.py
LIVE = {"antennas": 3, "snr_db": 30.0, "rate_hz": 20.0, "nodes": 1, "person_seed": PERSON}


def holds() -> tuple[tuple[float, float], ...]:
    """The breath holds of the live simulator's first session (stream seconds from its start)."""
    sim = simulate(SimConfig("breath_hold", seed=PERSON, room_seed=ROOM_SEED, nodes=NODES, duration=None))
    return sim.activity_at(0.0)[0].holds


async def test_a_breath_hold_fires_one_breathing_pause_event_with_its_duration(
        hass: HomeAssistant, addon: Addon, entity_registry: er.EntityRegistry) -> None:
    enroll_offline(addon.data_dir, "den", "Den", anchors=(), trained=False, sim=SIM)
    await addon.start()
    await set_up(hass, hub_entry(addon, room_subentry("den", "Den")))
    entry = entity_registry.async_get(ENTITY)
    assert entry is not None and entry.translation_key == "breathing_pause" and entry.has_entity_name
    fired: dict[str, dict[str, Any]] = {}  # the event's time stamp (the entity's state) -> its attributes

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        if new is not None and new.state not in (STATE_UNKNOWN, STATE_UNAVAILABLE):
            fired.setdefault(new.state, dict(new.attributes))

    remove = async_track_state_change_event(hass, [ENTITY], changed)
    planned = holds()
    addon.play("breath_hold", **LIVE)
    # the first hold, or the second should the first come before the rhythm was established
    await wait_for(lambda: bool(fired), timeout=planned[1][1] + 40.0, what="a breathing pause event")
    quiet_until = hass.loop.time() + 6.0
    await wait_for(lambda: hass.loop.time() >= quiet_until, timeout=10.0)  # states go on pushing: nothing more fires
    remove()

    assert len(fired) == 1, fired
    (attributes,) = fired.values()
    assert attributes["event_type"] == "breathing_pause"
    assert attributes["event_types"] == ["breathing_pause"]
    durations = [end - start for start, end in planned[:2]]
    assert any(10.0 <= attributes["duration_s"] and abs(attributes["duration_s"] - d) <= 6.0 for d in durations), (
        attributes, planned[:2])
    assert 0.0 < attributes["confidence"] <= 1.0
