"""Vital-sign estimators: breathing (``breathing.py``) and heart rate (``heart.py``)."""

from .breathing import BREATHING_BAND_BPM, breathing_columns, estimate_breathing
from .features import FEATURES, available_features, extract_feature
from .heart import HEART_BAND_BPM, estimate_heart_rate
from .pauses import MIN_PAUSE_S, current_pause, find_pauses, rhythm_reference
from .periodicity import COMBINERS, VitalSignEstimate, estimate_rate
from .rhythm import Rhythm, find_rhythm

__all__ = [
    "BREATHING_BAND_BPM",
    "COMBINERS",
    "FEATURES",
    "HEART_BAND_BPM",
    "MIN_PAUSE_S",
    "Rhythm",
    "VitalSignEstimate",
    "available_features",
    "breathing_columns",
    "current_pause",
    "estimate_breathing",
    "estimate_heart_rate",
    "estimate_rate",
    "extract_feature",
    "find_pauses",
    "find_rhythm",
    "rhythm_reference",
]
