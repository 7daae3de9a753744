"""Training of the compact CIFAR-10 models (issue 4): data, trainer, int8 export, parity fixtures."""
import os

# Debian's torch calls the pthread OpenBLAS, whose own thread pool competes with torch's intra-op
# threads for the same cores: held to one thread, a training step runs 1.2-2.2x faster on 2 cores
# (`npm run bench:train-threads`). Must be set before torch (and so OpenBLAS) loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
