"""Per-layer gradients of a trained model's loss on a batch of training data, for the Inspector's weight view
(the gradient histograms TensorBoard users look at to see vanishing or exploding gradients)."""
from __future__ import annotations

import numpy as np


def layer_gradients(model, x, y, max_samples=256) -> dict:
    """``{layer name: [gradient array or None per weight]}`` of the compiled loss on the first ``max_samples`` of
    ``(x, y)``, the model in inference mode (BatchNormalization statistics are neither used from the batch nor
    updated, Dropout is off). None for a weight without a gradient (non-trainable ones, moving statistics). The
    model's weights and gradients are left as they were."""
    n = min(int(max_samples), len(x))
    if n < 1:
        raise ValueError("layer_gradients needs at least one sample")
    xb, yb = x[:n], y[:n]
    model.zero_grad()
    try:
        y_pred = model(xb, training=False)
        loss = model.compute_loss(x=xb, y=yb, y_pred=y_pred)
        loss.backward()
        out = {}
        for layer in model.layers:
            grads = []
            for w in layer.weights:
                g = getattr(getattr(w, "value", None), "grad", None)
                grads.append(None if g is None else g.detach().cpu().numpy().astype(np.float32, copy=True))
            if any(g is not None for g in grads):
                out[layer.name] = grads
        return out
    finally:
        model.zero_grad()
