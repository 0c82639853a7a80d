"""Telemetry probes. Each samples every N steps (0: never), computes on the job's device and hands its
tensors to Telemetry, which makes one device-to-host transfer for all the probes sampling a step.

A probe overrides only the hooks it needs: arm() before the training forward (forward hooks live only
for that one pass), collect() after backward (gradients present, weights not yet stepped), events()
once its tensors are on the host. base.py: what probes share; network.py: the probes every network
has; pictures.py: image and sequence data and classes; sampling.py: Telemetry.
"""

from __future__ import annotations

from trainscope.training.probes.base import Emit, Fetched, Probe, ProbeContext, b64, eval_forward, hidden_outputs
from trainscope.training.probes.sampling import Telemetry

__all__ = ["Emit", "Fetched", "Probe", "ProbeContext", "Telemetry", "b64", "eval_forward", "hidden_outputs"]
