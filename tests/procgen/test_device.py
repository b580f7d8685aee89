"""device="auto" picks CUDA exactly when torch can see a GPU; bad names are clear errors."""

from __future__ import annotations

import pytest
import torch

from procgen.core import select_device


def test_auto_follows_cuda_availability() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert select_device("auto").type == expected
    assert torch.zeros(2, device=select_device()).device.type == expected


def test_explicit_and_bad_devices() -> None:
    assert select_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="expected one of"):
        select_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU is available"):
            select_device("cuda")
