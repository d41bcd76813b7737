"""Names are validated, and every significant parameter is part of the output path."""

import re

import pytest

from pset_4.errors import PipelineError
from pset_4.names import contact_sheet_relative_path, stylized_relative_path, validate_name


@pytest.mark.parametrize("name", ["grace_hopper.jpg", "photo 1.png", "a.b.c.jpg", ".hidden.jpg"])
def test_plain_file_names_are_accepted(name):
    assert validate_name(name, "image") == name


@pytest.mark.parametrize(
    "name, problem",
    [
        ("../secret.jpg", "separator"),
        ("..", "'..'"),
        ("images/photo.jpg", "separator"),
        ("/etc/passwd", "separator"),
        ("c:\\photo.jpg", "separator"),
        ("bad\nname.jpg", "control character"),
        ("", "empty"),
        ("  ", "empty"),
    ],
)
def test_unsafe_names_are_refused_with_a_message_naming_them(name, problem):
    with pytest.raises(PipelineError) as caught:
        validate_name(name, "model")
    message = str(caught.value)
    assert problem in message
    assert "\n" not in message
    assert "model" in message


def test_output_path_encodes_image_model_style_and_scale():
    base = stylized_relative_path("a.jpg", "m.pth", 3)
    assert re.fullmatch(r"a\.jpg/m\.pth--style-3--[0-9a-f]{10}\.png", base)
    # The content identities of image and model are part of the key.
    assert stylized_relative_path("a.jpg", "m.pth", 3, image_identity="etag-2") != base
    assert stylized_relative_path("a.jpg", "m.pth", 3, model_identity="etag-2") != base
    variants = {
        stylized_relative_path("b.jpg", "m.pth", 3),
        stylized_relative_path("a.jpg", "n.pth", 3),
        stylized_relative_path("a.jpg", "m.pth", 4),
        stylized_relative_path("a.jpg", "m.pth", None),
        stylized_relative_path("a.jpg", "m.pth", 3, content_scale=2.0),
    }
    assert base not in variants and len(variants) == 5


def test_output_path_refuses_unsafe_names():
    with pytest.raises(PipelineError):
        stylized_relative_path("../a.jpg", "m.pth", 0)


def test_contact_sheet_path_changes_with_what_it_shows():
    one = contact_sheet_relative_path("a.jpg", ["m.pth"], [0, 1])
    assert one.startswith("a.jpg/contact-sheet--2-results--") and one.endswith(".png")
    assert one == contact_sheet_relative_path("a.jpg", ("m.pth",), (0, 1))
    assert one != contact_sheet_relative_path("a.jpg", ["m.pth"], [0, 2])
    assert one != contact_sheet_relative_path("a.jpg", ["n.pth"], [0, 1])
