from PIL import Image

from pset_4.contact_sheet import LABEL_HEIGHT, make_contact_sheet


def test_sheet_is_a_grid_with_the_content_first():
    content = Image.new("RGB", (100, 50), "red")
    results = [(f"style {k}", Image.new("RGB", (100, 50), "blue")) for k in range(4)]
    sheet = make_contact_sheet(content, results, tile=64)
    assert sheet.size == (4 * 64, 2 * (64 + LABEL_HEIGHT))  # 5 cells, 4 per row
    assert sheet.getpixel((32, 32))[0] > 200  # the red content image in the first cell
    assert sheet.getpixel((64 + 32, 32))[2] > 200  # a blue result next to it
