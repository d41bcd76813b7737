"""A batch pays for one onnxruntime session per process, not one per image."""

from __future__ import annotations

import copy

from neural_style import load_model
from neural_style.controls import Controls, stylize_with_controls


def test_every_image_of_a_batch_runs_on_the_models_one_session(
    multistyle_checkpoint, grace_hopper, monkeypatch
):
    import onnxruntime

    model = load_model(multistyle_checkpoint, style=6, engine="onnx")
    made = []
    real = onnxruntime.InferenceSession
    monkeypatch.setattr(onnxruntime, "InferenceSession",
                        lambda *args, **kwargs: made.append(args) or real(*args, **kwargs))
    for style in (6, "6:0.5,2:0.5", 6):  # the pipeline passes each result's style controls
        stylize_with_controls(grace_hopper, model, Controls.of(style, 1.0, False, None, None))
    assert made == []
    assert copy.copy(model).session is model.session
