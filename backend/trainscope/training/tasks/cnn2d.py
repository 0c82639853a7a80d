"""A CNN on images (training/models.py's CNN2D): trained, evaluated and probed as the MLP is, its
feature maps being its hidden layers' outputs."""

from __future__ import annotations

from trainscope.training.tasks import register
from trainscope.training.tasks.mlp import MLPTask


@register("cnn2d")
class CNN2DTask(MLPTask):
    pass
