"""A Trainscope model kind shipped in its own distribution (see kind.py and task.py)."""
