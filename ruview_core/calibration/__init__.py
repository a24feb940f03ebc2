"""Per-room calibration (ADR-151 stages 1-3): baseline, guided enrollment, labelled features."""

from .anchors import ANCHOR_NAMES, ANCHORS, COUNTDOWN_S, Anchor, get_anchor
from .baseline import BaselineError, NodeBaseline, RoomBaseline, capture_baseline, load_baseline, save_baseline
from .enrollment import AnchorOutcome, RoomEnrollment
from .features import SUMMARY_NAMES, WindowFeatures, window_features
from .persist import StoredFileError
from .quality import GateResult, check_anchor
from .records import AnchorFeatures, extract_anchor_features
from .session import EnrollmentSession, SessionState

__all__ = [
    "ANCHORS", "ANCHOR_NAMES", "COUNTDOWN_S", "Anchor", "AnchorFeatures", "AnchorOutcome", "BaselineError",
    "EnrollmentSession", "GateResult", "NodeBaseline", "RoomBaseline", "RoomEnrollment", "SUMMARY_NAMES",
    "SessionState", "StoredFileError", "WindowFeatures", "capture_baseline", "check_anchor", "extract_anchor_features",
    "get_anchor", "load_baseline", "save_baseline", "window_features",
]
