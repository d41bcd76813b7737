"""The pipeline against S3: moto's server on 127.0.0.1, reached over HTTP by luigi's S3 client."""

from __future__ import annotations

import luigi
import pytest
from PIL import Image
from sample_photos import SMALL_IMAGE, small_photo

from pset_4.tasks.data import UploadImage


@pytest.fixture
def bucket_root(s3_server):
    """A fresh, empty bucket on the moto server (tests/fixtures/s3.py); its s3:// root."""
    return f"s3://{s3_server.create_bucket()}/pset_4"


def test_s3_remote_from_empty_bucket_to_identical_a_and_b_outputs(
    s3_server, bucket_root, tmp_path, run_cli
):
    # Put the small test image in the bucket through the pipeline's own Upload task.
    staging = tmp_path / "staging"
    (staging / "images").mkdir(parents=True)
    small_photo().save(staging / "images" / SMALL_IMAGE)
    assert luigi.build(
        [UploadImage(remote_root=bucket_root, local_root=str(staging), name=SMALL_IMAGE)],
        local_scheduler=True,
    )

    # --seed converts the bundled model and uploads it (and the sample photo) to S3.
    code, [b_output], err = run_cli("--seed", "-i", SMALL_IMAGE, "--style", "4", "--option", "B",
                                    remote=bucket_root, output_dir=tmp_path / "B")
    assert code == 0, err
    bucket, prefix = bucket_root[len("s3://"):].split("/", 1)
    keys = {item["Key"] for item in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]}
    assert {f"{prefix}/images/{SMALL_IMAGE}", f"{prefix}/images/grace_hopper.jpg",
            f"{prefix}/saved_models/multistyle26.pth"} <= keys
    assert Image.open(b_output).size == small_photo().size

    code, [a_output], err = run_cli("-i", SMALL_IMAGE, "--style", "4", "--option", "A",
                                    remote=bucket_root, output_dir=tmp_path / "A")
    assert code == 0, err
    assert open(a_output, "rb").read() == open(b_output, "rb").read()

    code, [again], err = run_cli("-i", SMALL_IMAGE, "--style", "4", remote=bucket_root,
                                 output_dir=tmp_path / "B")
    assert code == 0 and again == b_output


def test_s3_missing_image_fails_with_one_line(bucket_root, tmp_path, run_cli):
    code, paths, err = run_cli("-i", "nosuch.jpg", remote=bucket_root)
    assert code == 20 and paths == []
    [line] = err.strip().splitlines()
    assert "missing on the remote: image 'nosuch.jpg'" in line and bucket_root in line
