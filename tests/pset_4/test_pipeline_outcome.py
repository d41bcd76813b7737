from pset_4.outcome import describe_missing


def test_a_missing_remote_file_is_named_as_an_image_or_a_model():
    assert describe_missing("images/a.jpg", "s3://b/p/images/a.jpg") == "image 'a.jpg' (s3://b/p/images/a.jpg)"
    assert (
        describe_missing("saved_models/m.pth", "r/saved_models/m.pth")
        == "model 'm.pth' (r/saved_models/m.pth)"
    )
    assert describe_missing("other/x", "r/other/x") == "'other/x' (r/other/x)"
