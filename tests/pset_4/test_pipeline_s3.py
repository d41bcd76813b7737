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

    # The result is on the remote: another machine (its own output dir) finds it done
    # and names its remote URL; A and B share the key (they write identical bytes).
    code, [a_output], err = run_cli("-i", SMALL_IMAGE, "--style", "4", "--option", "A",
                                    remote=bucket_root, output_dir=tmp_path / "A")
    assert code == 0, err
    assert a_output.startswith(f"{bucket_root}/stylized/{SMALL_IMAGE}/multistyle26.pth--style-4--")

    code, [again], err = run_cli("-i", SMALL_IMAGE, "--style", "4", remote=bucket_root,
                                 output_dir=tmp_path / "B")
    assert code == 0 and again == b_output


def test_s3_missing_image_fails_with_one_line(bucket_root, tmp_path, run_cli):
    code, paths, err = run_cli("-i", "nosuch.jpg", remote=bucket_root)
    assert code == 20 and paths == []
    [line] = err.strip().splitlines()
    assert "missing on the remote: image 'nosuch.jpg'" in line and bucket_root in line


def test_a_failed_result_upload_is_not_done_leaves_nothing_and_a_rerun_completes(
        s3_server, bucket_root, tmp_path, run_cli):
    from fixtures.fault_proxy import FaultProxy
    from fixtures.s3 import s3_environment

    proxy = FaultProxy(s3_server.endpoint_url)
    bucket, prefix = bucket_root[len("s3://"):].split("/", 1)
    try:
        with s3_environment(proxy.endpoint_url):
            proxy.fault, proxy.match = "fail-put", "/stylized/"  # 500 for every result upload
            code, paths, err = run_cli("--seed", "--content-scale", "5", remote=bucket_root)
            assert code == 30 and paths == [], err
            line, summary = err.strip().splitlines()  # the error, then the run's summary
            assert "stylized" in line
            assert summary.startswith("pset_4: 0 stylized, 0 already done, 1 failed (")
            listed = s3_server.client().list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/stylized/")
            assert listed.get("KeyCount") == 0
            assert not s3_server.client().list_multipart_uploads(Bucket=bucket).get("Uploads")

            proxy.fault = None
            code, [result], err = run_cli("--content-scale", "5", remote=bucket_root)
            assert code == 0, err
            listed = s3_server.client().list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/stylized/")
            assert listed.get("KeyCount") == 1
    finally:
        proxy.stop()


def test_requests_per_image_cold_and_warm(s3_server, bucket_root, tmp_path, run_cli, caplog):
    """Bulk checks: an image costs its GET and its result's PUT cold (the PUT's answer
    verifies the upload: no HEAD after it), and nothing warm: the inputs and
    the results are known from one listing each (counted from the S3 server's request log;
    benchmarks/scale_bench.py prints the same per image)."""
    import io
    import logging
    import re
    from collections import Counter

    code, _, err = run_cli("--seed", "--content-scale", "5", remote=bucket_root)
    assert code == 0, err
    bucket, prefix = bucket_root[len("s3://"):].split("/", 1)
    for n in range(3):
        body = io.BytesIO()
        small_photo(64).rotate(n * 5).save(body, format="PNG")
        s3_server.client().put_object(
            Bucket=bucket, Key=f"{prefix}/images/p{n}.png", Body=body.getvalue()
        )
    request = re.compile(r'"(GET|HEAD|PUT|POST|DELETE) /(?!moto-api)(\S*)')

    def kind(match) -> str:
        method, path = match.groups()
        if method == "GET" and "list-type=2" in path:
            return "LIST"
        return f"{method} {path.split('/')[2] if path.count('/') > 1 else ''}"

    counts = {}
    caplog.set_level(logging.INFO, logger="werkzeug")
    for images in (["p0.png"], ["p1.png", "p2.png"]):
        for phase in ("cold", "warm"):
            caplog.clear()
            code, _, err = run_cli(*[a for i in images for a in ("-i", i)], remote=bucket_root,
                                   output_dir=tmp_path / f"out-{len(images)}")
            assert code == 0, err
            counts[len(images), phase] = Counter(
                kind(match) for r in caplog.records if (match := request.search(r.getMessage()))
            )
    extra_cold = counts[2, "cold"] - counts[1, "cold"]
    assert extra_cold["GET images"] == 1 and extra_cold["PUT stylized"] == 1, counts
    assert extra_cold["HEAD images"] == 0 and extra_cold["LIST"] == 0, counts
    assert sum(extra_cold.values()) == 2, counts
    # Warm: a listing of images/ and one of stylized/, the model's HEAD; nothing per image.
    assert counts[1, "warm"] == counts[2, "warm"] == Counter(
        {"LIST": 2, "HEAD saved_models": 1}), counts
