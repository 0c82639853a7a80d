"""Plain PyTorch training: imports torch, numpy, scikit-learn's datasets and our spec models, never the web layer."""
