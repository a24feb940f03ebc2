"""Vital-sign estimators: breathing (``breathing.py``) and heart rate (``heart.py``)."""

from .breathing import BREATHING_BAND_BPM, estimate_breathing
from .features import FEATURES, available_features, extract_feature
from .heart import HEART_BAND_BPM, estimate_heart_rate
from .periodicity import COMBINERS, VitalSignEstimate, estimate_rate

__all__ = [
    "BREATHING_BAND_BPM",
    "COMBINERS",
    "FEATURES",
    "HEART_BAND_BPM",
    "VitalSignEstimate",
    "available_features",
    "estimate_breathing",
    "estimate_heart_rate",
    "estimate_rate",
    "extract_feature",
]
