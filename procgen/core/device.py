"""`device="auto"`: CUDA when there is a GPU, else the CPU. Every torch entry point takes its device from here."""

from __future__ import annotations

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def select_device(device: str = "auto") -> torch.device:
    """Resolve "auto" | "cpu" | "cuda" | "cuda:N"; asking for CUDA where there is none is a clear ValueError."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu":
        return torch.device("cpu")
    if device == "cuda" or device.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ValueError(
                f"device: {device!r} was asked for, but no CUDA GPU is available (use 'auto' or 'cpu')"
            )
        return torch.device(device)
    raise ValueError(f"device: expected one of {DEVICE_CHOICES} or 'cuda:N', got {device!r}")
