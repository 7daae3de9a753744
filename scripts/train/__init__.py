"""Training of the compact CIFAR-10 models (issue 4): data, trainer, int8 export, parity fixtures."""
