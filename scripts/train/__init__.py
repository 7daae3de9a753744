"""Training of the compact CIFAR-10 models (issue 4): data, trainer, int8 export, parity fixtures."""
import os

# Debian's torch calls the pthread OpenBLAS, whose own thread pool competes with torch's intra-op
# threads for the same cores: one MViTv2 training step took 0.99 s on 2 cores by default and
# 0.51 s with OpenBLAS held to one thread. Must be set before torch (and so OpenBLAS) loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
