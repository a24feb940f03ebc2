"""One node's sensing chain, shared by ``ruview analyze``, the room runtime and enrollment.

- :mod:`.window`: a frame's legacy-LTF CSI, per-packet phase sanitising, uniform windows;
- :mod:`.cleaning`: frames cleaned (phase sanitised, gain-normalised) and buffered;
- :mod:`.motion`: the motion statistic and its quiet levels;
- :mod:`.pipeline`: :class:`~.pipeline.NodePipeline`, frames in, one record per hop out.

Kept free of imports here so that :mod:`ruview_core.calibration` can use the leaf modules.
"""
