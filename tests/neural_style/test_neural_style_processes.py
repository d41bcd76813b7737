"""Same bytes whatever the process: thread count and forked (luigi worker) children."""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import os

import pytest
import torch

from neural_style import load_model, save_image, set_threads, stylize
from neural_style import threads as engine_threads


def png_digest(image) -> str:
    buffer = io.BytesIO()
    save_image(image, buffer, format="png")
    return hashlib.sha256(buffer.getvalue()).hexdigest()


@pytest.mark.parametrize("engine", ["torch", "onnx"])
@pytest.mark.parametrize("model_fixture", ["multistyle_checkpoint", "examples_state_dict_path"])
def test_pixels_do_not_depend_on_the_thread_count(model_fixture, engine, request, grace_hopper):
    previous = torch.get_num_threads()
    digests = set()
    try:
        for threads in (1, 2, 3):
            set_threads(threads)  # onnxruntime reads it when a session is made
            model = load_model(request.getfixturevalue(model_fixture), engine=engine,
                               style=3 if model_fixture == "multistyle_checkpoint" else None)
            digests.add(png_digest(stylize(grace_hopper, model)))
    finally:
        set_threads(None)
        torch.set_num_threads(previous)
    assert len(digests) == 1


def stylize_in_child(model, image, results):
    """Stylize with a model the parent loaded (and ran), as a forked luigi worker does."""
    results.put((torch.get_num_threads(), engine_threads.configured(),
                 png_digest(stylize(image, model))))


@pytest.mark.parametrize("engine", ["torch", "onnx"])
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_child_forked_after_stylizing_still_works(engine, multistyle_checkpoint, grace_hopper):
    """luigi runs each worker in a forked process. Without neural_style's fork
    handler, a child forked after the parent ran multi-threaded torch ops hangs
    on its first multi-threaded op; an onnxruntime session made in the parent
    runs several times slower in the child, so the child makes its own."""
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        model = load_model(multistyle_checkpoint, style=3, engine=engine)
        expected = png_digest(stylize(grace_hopper, model))
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        child = context.Process(target=stylize_in_child, args=(model, grace_hopper, results))
        child.start()
        child.join(60)
        hung = child.is_alive()
        if hung:
            child.kill()
        assert not hung, "the forked child hung"
        assert child.exitcode == 0
        torch_threads, configured, digest = results.get(timeout=5)
        assert torch_threads == 1 and configured == 1 and digest == expected
    finally:
        torch.set_num_threads(previous)
