"""Bring PyTorch (Time-Series-Library) weights into kerasfactory layers and models, and layers' back."""

from kerasfactory.interop.torch import load_torch_file, load_torch_state_dict, to_torch_state_dict
from kerasfactory.interop.tslib import from_tslib

__all__ = ["from_tslib", "load_torch_file", "load_torch_state_dict", "to_torch_state_dict"]
