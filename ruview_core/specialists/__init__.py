"""Stage 4: the per-room specialist bank (ADR-151 §2.4), one small model per signal."""

from .bank import SPECIALIST_KINDS, SpecialistBank, load_bank, retrain, save_bank, train_bank
from .base import BACKBONE_REV, Reading, Specialist, unknown

__all__ = ["BACKBONE_REV", "SPECIALIST_KINDS", "Reading", "Specialist", "SpecialistBank", "load_bank", "retrain",
           "save_bank", "train_bank", "unknown"]
