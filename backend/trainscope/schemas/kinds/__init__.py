"""The built-in kinds: each module here lists its own in `KINDS` (see trainscope.schemas.registry);
a new kind is a new module, listed nowhere else."""
