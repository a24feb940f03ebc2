"""Stage 5: the runtime mixture of specialists and the fused room state (ADR-151 §2.5)."""

from .fusion import fuse
from .monitor import DRIFT_WINDOWS, NodeMonitor, RoomMonitor
from .room_state import READINGS, NodeState, RoomState

__all__ = ["DRIFT_WINDOWS", "READINGS", "NodeMonitor", "NodeState", "RoomMonitor", "RoomState", "fuse"]
