"""CNNs (training/models.py's ConvNet) on images and on sequences: trained, evaluated and probed as the
MLP is, their feature maps being their hidden layers' outputs."""

from __future__ import annotations

from trainscope.training.tasks import register
from trainscope.training.tasks.mlp import MLPTask


@register("cnn2d")
class CNN2DTask(MLPTask):
    pass


@register("cnn1d")
class CNN1DTask(MLPTask):
    pass
