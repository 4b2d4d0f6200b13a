"""Train the digit classifier on scikit-learn's bundled digits and save its weights.

    python scripts/train_digits.py [--out node/inference/models/digits_mlp.safetensors]

Deterministic (fixed seeds, one thread). Prints the held-out accuracy on a stratified 25% split.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch
from safetensors.torch import save_file
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from node.inference.identity import model_id
from node.inference.models.digits import WEIGHTS, build_mlp


def train(epochs: int = 60, seed: int = 0) -> tuple[torch.nn.Module, float]:
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(
        x, digits.target, test_size=0.25, random_state=seed, stratify=digits.target
    )
    model = build_mlp()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train).long()
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(xt), generator=generator)
        for i in range(0, len(xt), 32):
            idx = order[i : i + 32]
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.inference_mode():
        predicted = model(torch.from_numpy(x_test)).argmax(dim=1).numpy()
    return model, float((predicted == y_test).mean())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(WEIGHTS))
    args = parser.parse_args()
    model, accuracy = train()
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, args.out)
    print(
        json.dumps({"held_out_accuracy": round(accuracy, 4), "out": args.out, "model_id": "0x" + model_id(state).hex()})
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
