"""Real PyTorch inference: model plug-ins, canonical output encoding, verification policies."""
