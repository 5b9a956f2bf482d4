"""Writes the PyTorch-made safetensors fixtures used by tests/test_serialization.py.

Run with PyTorch and safetensors installed (not needed by the tests themselves):

    python tests/data/make_pytorch_fixtures.py

The model is ``Sequential(Conv2d(1, 2, 3), BatchNorm2d(2), ReLU(), Flatten(), Linear(8, 3))``;
every floating tensor holds ``arange(numel) * 0.25 - 1`` in its shape (exact in bfloat16 too)
and ``1.num_batches_tracked`` is 7, so the tests can compute the expected values.
"""
from pathlib import Path

import torch
from safetensors.torch import save_file

here = Path(__file__).parent
model = torch.nn.Sequential(
    torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.ReLU(), torch.nn.Flatten(),
    torch.nn.Linear(8, 3),
)
with torch.no_grad():
    for t in model.state_dict().values():
        if t.is_floating_point():
            t.copy_((torch.arange(t.numel(), dtype=torch.float32) * 0.25 - 1).reshape(t.shape))
        else:
            t.fill_(7)
sd = model.state_dict()
save_file(sd, here / "pytorch_cnn.safetensors", metadata={"format": "pt"})
bf16 = {k: (v.to(torch.bfloat16) if v.is_floating_point() else v) for k, v in sd.items()}
save_file(bf16, here / "pytorch_cnn_bf16.safetensors", metadata={"format": "pt"})
