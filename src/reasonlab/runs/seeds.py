"""One seed for every random number generator a run touches."""

from __future__ import annotations

import os
import random
import sys


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (when they are in use) so a run repeats."""
    random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if "numpy" in sys.modules:
        import numpy as np

        np.random.seed(seed)
    if "torch" in sys.modules:
        import torch

        torch.manual_seed(seed)
