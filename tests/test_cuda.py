"""CUDA inference (skipped without a GPU)."""
import numpy as np
import pytest
import torch

from emoannot.config import Settings
from emoannot.errors import DeviceError
from emoannot.device import resolve_device

from helpers import EXAMPLE

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_auto_picks_what_torch_sees():
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="--device cpu"):
            resolve_device("cuda")


@cuda
@pytest.mark.cuda
def test_cuda_matches_cpu(engine):
    from emoannot.pipeline import Engine

    gpu = Engine(Settings(device="cuda"))
    assert next(gpu.fusion.parameters()).is_cuda and next(gpu.cnn.parameters()).is_cuda
    a_gpu, a_cpu = gpu.annotate(EXAMPLE), engine.annotate(EXAMPLE)
    assert a_gpu.n_frames == a_cpu.n_frames
    assert np.abs(a_gpu.valence - a_cpu.valence).max() < 0.1  # float16 ASR/encoder on the GPU, int8 on the CPU
    assert np.abs(a_gpu.arousal - a_cpu.arousal).max() < 0.1
