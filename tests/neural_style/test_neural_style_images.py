"""save_image is the one encoder: deterministic, format from the (temp) name."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from luigi.format import Nop
from PIL import Image

from csci_utils.luigi.target import SuffixPreservingLocalTarget
from neural_style import NeuralStyleError, load_image, save_image
from neural_style.images import image_to_tensor, tensor_to_image


def test_same_pixels_same_bytes_through_every_path(grace_hopper, tmp_path):
    in_memory = io.BytesIO()
    save_image(grace_hopper, in_memory, format="png")
    save_image(grace_hopper, tmp_path / "direct.png")
    target = SuffixPreservingLocalTarget(str(tmp_path / "via_open.png"), format=Nop)
    with target.open("w") as stream:  # temp name photo-luigi-tmp-N.png gives the format
        save_image(grace_hopper, stream)
    with SuffixPreservingLocalTarget(str(tmp_path / "via_temp.png")).temporary_path() as temporary:
        save_image(grace_hopper, temporary)
    for name in ("direct.png", "via_open.png", "via_temp.png"):
        assert (tmp_path / name).read_bytes() == in_memory.getvalue(), name


@pytest.mark.parametrize("name, magic", [("a.jpg", b"\xff\xd8\xff"), ("a.jpeg", b"\xff\xd8\xff"),
                                         ("a.png", b"\x89PNG"), ("a.tiff", b"II*\x00"),
                                         ("a.webp", b"RIFF")])
def test_format_follows_the_suffix(name, magic, grace_hopper, tmp_path):
    save_image(grace_hopper, tmp_path / name)
    assert (tmp_path / name).read_bytes()[: len(magic)] == magic
    assert load_image(tmp_path / name).size == grace_hopper.size


def test_saving_a_png_registers_only_pillows_common_plugins(tmp_path):
    # Registering every plugin cost ~35 ms of CPU in each process of option A.
    script = ("import sys; from PIL import Image; from neural_style import save_image; "
              "save_image(Image.new('RGB', (4, 4)), sys.argv[1]); "
              "print('PIL.TiffImagePlugin' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "a.png")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
    assert (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"


def test_unknown_format_is_a_clear_error(grace_hopper, tmp_path):
    with pytest.raises(NeuralStyleError, match=r"cannot tell the image format of .*out\.xyz"):
        save_image(grace_hopper, tmp_path / "out.xyz")
    with pytest.raises(NeuralStyleError, match="pass format="):
        save_image(grace_hopper, io.BytesIO())


def test_tensor_round_trip_is_exact(grace_hopper):
    assert tensor_to_image(image_to_tensor(grace_hopper)).tobytes() == grace_hopper.tobytes()


def test_alpha_is_flattened_onto_white(tmp_path):
    Image.new("RGBA", (8, 8), (255, 0, 0, 0)).save(tmp_path / "clear.png")
    assert load_image(tmp_path / "clear.png").getpixel((0, 0)) == (255, 255, 255)
