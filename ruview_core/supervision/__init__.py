"""Camera-free supervision (ADR-071, issue 8): a home's own sensors as weak labels for the CSI.

Modules by role: :mod:`.events` (the label event record and its JSONL form), :mod:`.seed` (the
Cognitum Seed client), :mod:`.align` (events on the CSI's clock), :mod:`.rules` (Phase 1 weak
labels, graceful degradation), :mod:`.weak_labels` (the rules as a training ``LabelSource``),
:mod:`.refine` (sensor-verified triplets, self-refinement), :mod:`.bank_update` (guarded,
versioned updates of a room's presence and motion specialists), :mod:`.zones` (the coarse
zone and the pose-decoder artifact), :mod:`.simulated_sensors` (PIR / door / temperature /
humidity / vibration driven by the simulator's truth).
"""

from .events import KINDS, LabelEvent, LabelEventError, event_from_dict, parse_events, read_events, write_events
from .rules import ACTIVITIES, MODES, SIGNALS, CameraFreeLabels, RuleConfig, camera_free_labels
from .weak_labels import CameraFreeLabelSource

__all__ = ["ACTIVITIES", "KINDS", "MODES", "SIGNALS", "CameraFreeLabelSource", "CameraFreeLabels", "LabelEvent",
           "LabelEventError", "RuleConfig", "camera_free_labels", "event_from_dict", "parse_events", "read_events",
           "write_events"]
