"""Bring PyTorch (Time-Series-Library) weights into kerasfactory layers and back."""

from kerasfactory.interop.torch import load_torch_file, load_torch_state_dict, to_torch_state_dict

__all__ = ["load_torch_file", "load_torch_state_dict", "to_torch_state_dict"]
