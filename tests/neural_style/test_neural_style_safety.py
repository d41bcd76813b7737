"""Safety: checkpoints load with weights_only=True, so a pickle with a code
payload is refused without running; decompression bombs are refused; bad input
gives one clear NeuralStyleError."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from neural_style import NeuralStyleError, load_image, load_model


class CreatesAFile:
    """Unpickling this calls open(path, "w"): it creates a file."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, "w")


@pytest.fixture
def payload_checkpoint(tmp_path):
    marker = tmp_path / "pwned.txt"
    path = tmp_path / "mosaic.pth"
    torch.save({"state_dict": CreatesAFile(marker)}, path)
    return path, marker


def test_a_pickle_payload_is_refused_without_running(payload_checkpoint):
    path, marker = payload_checkpoint
    with pytest.raises(NeuralStyleError, match=r"refusing to load .*mosaic\.pth: it is not a "
                                               r"tensors-only checkpoint") as refused:
        load_model(path)
    assert "\n" not in str(refused.value)
    assert not marker.exists()
    # Control: the payload is real; an unsafe load does run it.
    torch.load(path, weights_only=False)["state_dict"].close()
    assert marker.exists()


def test_a_decompression_bomb_is_refused(decompression_bomb_png):
    bomb = decompression_bomb_png
    assert bomb.stat().st_size < 1_000  # 1.6 gigapixels declared in under a kilobyte
    with pytest.raises(NeuralStyleError, match=r"refusing image .*bomb\.png: it is a possible "
                                               r"decompression bomb .*Pillow's limit"):
        load_image(bomb)


def test_pillows_warning_zone_is_refused_too(grace_hopper_png, monkeypatch):
    # Between 1x and 2x the limit Pillow only warns; we refuse.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)  # the photo has 13,952
    with pytest.raises(NeuralStyleError, match="decompression bomb"):
        load_image(grace_hopper_png)


def test_missing_and_unreadable_images_are_clear(tmp_path):
    with pytest.raises(NeuralStyleError, match=r"image not found: .*nope\.jpg; check the path"):
        load_image(tmp_path / "nope.jpg")
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    with pytest.raises(NeuralStyleError, match=r"cannot read image .*notes\.jpg: .*; use a PNG"):
        load_image(text)


@pytest.mark.parametrize("content, expected", [
    (b"just some text", r"cannot read model .*model\.pth"),
    (None, r"model\.pth is not a style model"),
])
def test_a_file_that_is_no_model_is_clear(content, expected, tmp_path):
    path = tmp_path / "model.pth"
    if content is None:
        torch.save({"epoch": 3, "note": "optimizer state"}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(NeuralStyleError, match=expected):
        load_model(path)
    with pytest.raises(NeuralStyleError, match=r"model not found: .*absent\.pth"):
        load_model(tmp_path / "absent.pth")
