from pset_4.outcome import last_line_of_error


def test_last_line_of_a_traceback_keeps_only_the_message():
    traceback = (
        "Runtime error:\nTraceback (most recent call last):\n  File \"x.py\", line 1\n"
        "neural_style.NeuralStyleError: data/saved_models/bad.pth is not a checkpoint; convert it\n"
    )
    assert last_line_of_error(traceback) == "data/saved_models/bad.pth is not a checkpoint; convert it"
    assert last_line_of_error("") == "no error message was recorded"


def test_the_json_encoded_traceback_that_luigi_stores_is_decoded():
    import json

    stored = json.dumps("Traceback (most recent call last):\npset_4.errors.PipelineError: a.jpg: bad\n")
    assert last_line_of_error(stored) == "a.jpg: bad"
