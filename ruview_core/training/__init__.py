"""Training pipeline of ADR-071: contrastive CSI encoder, task heads, per-node LoRA, EWC,
2/4/8-bit quantization and SafeTensors/ONNX export, in numpy with exact gradients.

Entry points: :func:`train` (recordings in, model folder out), :func:`load_model` (verified
folder in), :func:`load_backbone` (the shipped base encoder), :func:`node_features` (the 8-dim
feature vector shared with the runtime).
"""

from .backbone import Backbone, load_backbone
from .dataset import TrainingSet, load_recordings
from .export import ArtifactError, load_model
from .features import FEATURE_NAMES, node_features
from .model import TrainedModel
from .pipeline import TrainingConfig, TrainingResult, train
from .weak_labels import LabelSource, WeakLabels

__all__ = [
    "ArtifactError",
    "Backbone",
    "FEATURE_NAMES",
    "LabelSource",
    "TrainedModel",
    "TrainingConfig",
    "TrainingResult",
    "TrainingSet",
    "WeakLabels",
    "load_backbone",
    "load_model",
    "load_recordings",
    "node_features",
    "train",
]
