#!/usr/bin/python3
"""Compare rnnl's training throughput with PyTorch's on the same MNIST data.

Trains each model for one epoch with rnnl-train and with an equivalent PyTorch model
(same architecture, optimiser, learning rate, batch size and thread count), then prints the
training samples/s of both and the ratio rnnl / PyTorch. Only the training loop of the epoch is
timed on either side (forward, loss, backward, optimiser step and, for RNL models, the
projection onto non-negative weights); test accuracy is measured afterwards, untimed.

Run it with Debian's interpreter, which sees the python3-torch package:

    /usr/bin/python3 benchmarks/compare_pytorch.py --threads 2

Needs: python3-torch (and libopenblas0-pthread for a fast BLAS), numpy, a built
build/apps/rnnl-train and the MNIST IDX files (bash data/fetch-mnist.sh). With 2 threads and a built
build/benchmarks/rnnl_probe_cores, each pair of runs is also labelled with the machine's core
placement at the time (whether the two cores share a cache), and the ratios are summarised per
placement: on shared 2-vCPU machines rnnl's data-parallel step is 10-20 % slower while they do not.
"""

import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SUPPORTED_MODELS = ("rnl_deep", "mlp")
LEARNING_RATES = {"rnl_deep": 3e-3, "mlp": 1e-3}  # rnnl-train's defaults, passed to both sides
HIDDEN = 512
CLASSES = 10
RNL_GAIN = 0.8
RNL_OUTPUT_SCALE = 5.0

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049


def parse_args():
    parser = argparse.ArgumentParser(
        description=(
            "Train each model for one epoch on MNIST in rnnl (via rnnl-train) and in PyTorch, "
            "with the same batch size and thread count, and print training samples/s of both "
            "and the ratio rnnl/PyTorch. Run with /usr/bin/python3 (Debian's python3-torch)."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--rnnl-train",
        type=Path,
        default=REPO / "build" / "apps" / "rnnl-train",
        metavar="PATH",
        help="rnnl-train executable",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=REPO / "data" / "mnist",
        metavar="DIR",
        help="folder with the four MNIST IDX files (fetch them with: bash data/fetch-mnist.sh)",
    )
    parser.add_argument("--threads", type=int, default=2, help="threads for both rnnl and PyTorch")
    parser.add_argument("--batch", type=int, default=128, help="mini-batch size")
    parser.add_argument(
        "--models",
        default=",".join(SUPPORTED_MODELS),
        help="comma-separated models to compare (supported: %s)" % ", ".join(SUPPORTED_MODELS),
    )
    parser.add_argument("--seed", type=int, default=1, help="seed for initialisation and shuffling")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="one-epoch runs per side, alternating rnnl and PyTorch; the medians are reported "
        "(shared machines drift by tens of percent between minutes)",
    )
    parser.add_argument(
        "--probe",
        type=Path,
        default=REPO / "build" / "benchmarks" / "rnnl_probe_cores",
        metavar="PATH",
        help="rnnl_probe_cores executable, run before and after each pair of runs to label the pair with "
        "the machine's core placement (whether the two cores share a cache; shared 2-vCPU machines switch "
        "between the two for minutes at a time); skipped if absent or --threads is not 2",
    )
    parser.add_argument(
        "--omp-wait-policy",
        choices=("passive", "active", "unset"),
        help="OMP_WAIT_POLICY for PyTorch's OpenMP pool (rnnl-train always gets the caller's environment). "
        "Debian's torch runs its matrix products in OpenBLAS's own pthread pool; with libgomp's default "
        "(spinning) policy the idle OpenMP threads compete with OpenBLAS's for the same cores and PyTorch "
        "slows down severalfold. Default: the caller's OMP_WAIT_POLICY if set, else passive",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="FILE.jsonl",
        help="also write one JSON object per model to this file (overwritten)",
    )
    args = parser.parse_args()
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not args.models:
        parser.error("--models is empty")
    for m in args.models:
        if m not in SUPPORTED_MODELS:
            parser.error("unsupported model '%s' (supported: %s)" % (m, ", ".join(SUPPORTED_MODELS)))
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    if args.batch < 1:
        parser.error("--batch must be at least 1")
    return args


# --------------------------------------------------------------------------------------------
# Data


def _read_file(path):
    """Bytes of an IDX file, raw or (as a fallback) path + '.gz'."""
    if path.is_file():
        data = path.read_bytes()
    elif path.with_name(path.name + ".gz").is_file():
        data = path.with_name(path.name + ".gz").read_bytes()
    else:
        raise FileNotFoundError(str(path))
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data


def read_idx_images(path, np):
    data = _read_file(path)
    if len(data) < 16:
        raise ValueError("%s: too short for an IDX image file" % path)
    magic, count, rows, cols = (int.from_bytes(data[i : i + 4], "big") for i in range(0, 16, 4))
    if magic != IMAGE_MAGIC:
        raise ValueError("%s: bad magic %d (expected %d)" % (path, magic, IMAGE_MAGIC))
    if len(data) != 16 + count * rows * cols:
        raise ValueError("%s: size does not match its header" % path)
    pixels = np.frombuffer(data, dtype=np.uint8, offset=16).reshape(count, rows * cols)
    return pixels.astype(np.float32) / np.float32(255.0)


def read_idx_labels(path, np):
    data = _read_file(path)
    if len(data) < 8:
        raise ValueError("%s: too short for an IDX label file" % path)
    magic, count = (int.from_bytes(data[i : i + 4], "big") for i in range(0, 8, 4))
    if magic != LABEL_MAGIC:
        raise ValueError("%s: bad magic %d (expected %d)" % (path, magic, LABEL_MAGIC))
    if len(data) != 8 + count:
        raise ValueError("%s: size does not match its header" % path)
    return np.frombuffer(data, dtype=np.uint8, offset=8).astype(np.int64)


def load_mnist(data_dir, np, torch):
    def pair(prefix):
        x = read_idx_images(data_dir / (prefix + "-images-idx3-ubyte"), np)
        y = read_idx_labels(data_dir / (prefix + "-labels-idx1-ubyte"), np)
        if len(x) != len(y):
            raise ValueError("%s: %d images but %d labels" % (prefix, len(x), len(y)))
        return torch.from_numpy(x), torch.from_numpy(y)

    return pair("train"), pair("t10k")


# --------------------------------------------------------------------------------------------
# PyTorch models


def build_torch_model(name, torch):
    nn = torch.nn

    class RandomNeuralLayer(nn.Module):
        """q = (x W+^T) / (1 + x W-^T), with non-negative W+, W- of shape (out, in)."""

        def __init__(self, n_in, n_out):
            super().__init__()
            bound = RNL_GAIN / n_in**0.5
            self.w_plus = nn.Parameter(torch.empty(n_out, n_in).uniform_(0.0, bound))
            self.w_minus = nn.Parameter(torch.empty(n_out, n_in).uniform_(0.0, bound))

        def forward(self, x):
            return (x @ self.w_plus.t()) / (1.0 + x @ self.w_minus.t())

        @torch.no_grad()
        def project(self):
            self.w_plus.clamp_(min=0.0)
            self.w_minus.clamp_(min=0.0)

    class RnlDeep(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.Sequential(
                RandomNeuralLayer(784, HIDDEN),
                RandomNeuralLayer(HIDDEN, HIDDEN),
                RandomNeuralLayer(HIDDEN, CLASSES),
            )

        def forward(self, x):
            return RNL_OUTPUT_SCALE * self.layers(x)

        def project(self):
            for layer in self.layers:
                layer.project()

    if name == "rnl_deep":
        return RnlDeep()
    if name == "mlp":
        return nn.Sequential(
            nn.Linear(784, HIDDEN),
            nn.ReLU(),
            nn.Linear(HIDDEN, HIDDEN),
            nn.ReLU(),
            nn.Linear(HIDDEN, CLASSES),
        )
    raise ValueError("unknown model " + name)


def torch_train_one_epoch(name, train, test, batch, seed, torch):
    """Returns (training samples/s, test accuracy in [0, 1])."""
    torch.manual_seed(seed)
    model = build_torch_model(name, torch)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATES[name])
    loss_fn = torch.nn.CrossEntropyLoss()
    project = getattr(model, "project", None)
    x_train, y_train = train
    n = len(x_train)
    shuffle = torch.Generator().manual_seed(seed)

    epochs = 1
    seconds = 0.0
    for _ in range(epochs):
        order = torch.randperm(n, generator=shuffle)
        model.train()
        loss_sum = 0.0
        correct = 0
        start = time.perf_counter()
        for first in range(0, n, batch):
            idx = order[first : first + batch]
            x, y = x_train[idx], y_train[idx]
            optimizer.zero_grad(set_to_none=True)
            logits = model(x)
            loss = loss_fn(logits, y)
            loss.backward()
            optimizer.step()
            if project is not None:
                project()
            # The same bookkeeping rnnl does inside its timed loop.
            loss_sum += loss.item() * len(idx)
            correct += int((logits.argmax(dim=1) == y).sum())
        seconds = time.perf_counter() - start
    if not (loss_sum == loss_sum):  # NaN
        raise RuntimeError("PyTorch training diverged for " + name)

    model.eval()
    x_test, y_test = test
    hits = 0
    with torch.no_grad():
        for first in range(0, len(x_test), 1000):
            logits = model(x_test[first : first + 1000])
            hits += int((logits.argmax(dim=1) == y_test[first : first + 1000]).sum())
    return n / seconds, hits / len(x_test)


# --------------------------------------------------------------------------------------------
# rnnl side


def rnnl_train_one_epoch(args, name, env):
    """Returns (training samples/s, test accuracy in [0, 1]) from rnnl-train's metrics file."""
    with tempfile.TemporaryDirectory(prefix="rnnl-compare-") as tmp:
        metrics = Path(tmp) / "metrics.jsonl"
        cmd = [
            str(args.rnnl_train),
            "--model", name,
            "--data-dir", str(args.data_dir),
            "--epochs", "1",
            "--batch", str(args.batch),
            "--lr", str(LEARNING_RATES[name]),
            "--threads", str(args.threads),
            "--seed", str(args.seed),
            "--no-progress",
            "--out", str(metrics),
        ]  # fmt: skip
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout + proc.stderr)
            raise RuntimeError("rnnl-train failed (exit code %d): %s" % (proc.returncode, " ".join(cmd)))
        lines = [line for line in metrics.read_text().splitlines() if line.strip()]
        if len(lines) != 1:
            raise RuntimeError("expected one line in rnnl-train's metrics, got %d" % len(lines))
        record = json.loads(lines[0])
        return float(record["samples_per_s"]), float(record["test_acc"])


def probe_placement(args, env):
    """True if the two cores share a cache right now, False if not, None if the probe is unavailable."""
    if args.threads != 2 or not args.probe.is_file() or not os.access(str(args.probe), os.X_OK):
        return None
    proc = subprocess.run([str(args.probe), "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env)  # fmt: skip
    try:
        if proc.returncode != 0:
            raise ValueError("exit code %d: %s" % (proc.returncode, proc.stderr.strip()))
        record = json.loads(proc.stdout)
    except ValueError as error:  # (a label is not worth aborting a long benchmark for)
        print("\n  warning: %s failed (%s); pair left unlabelled" % (args.probe, error), file=sys.stderr)
        return None
    return bool(record["cores_share_cache"]) if "cores_share_cache" in record else None


PLACEMENT_LABELS = {True: "shared cache", False: "no shared cache"}


def pair_placement(before, after):
    """One label for a pair of runs from the probes taken before and after it."""
    if before is None or after is None:
        return None if before is None and after is None else (before if after is None else after)
    return before if before == after else "changed"


# --------------------------------------------------------------------------------------------
# Environment report


def _loaded_blas_libraries():
    """Shared BLAS/LAPACK libraries mapped into this process (Linux only)."""
    libs = []
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                base = os.path.basename(path)
                if any(k in base for k in ("blas", "mkl", "blis")) and path not in libs:
                    libs.append(path)
    except OSError:
        pass
    return libs


def _openblas_threads(threads):
    """Ask the OpenBLAS loaded by torch to use `threads` threads; torch.set_num_threads does not
    reach OpenBLAS's own pthread pool. Returns OpenBLAS's thread count afterwards, or None."""
    import ctypes

    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_set_num_threads(ctypes.c_int(threads))
        return int(lib.openblas_get_num_threads())
    except (OSError, AttributeError):
        return None


def report_environment(torch, threads):
    print("torch %s, torch.get_num_threads() = %d" % (torch.__version__, torch.get_num_threads()))
    info = [ln.strip() for ln in torch.__config__.parallel_info().splitlines() if ln.strip()]
    wanted = [ln for ln in info if "get_num_threads" in ln or "parallel backend" in ln]
    print("  " + "; ".join(wanted))
    blas = re.findall(r"\bBLAS_INFO=[^,\s]+", torch.__config__.show())
    libs = _loaded_blas_libraries()
    print("  %s; loaded: %s" % (", ".join(blas) or "BLAS: ?", ", ".join(libs) or "?"))
    openblas = _openblas_threads(threads)
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    extra = " (OPENBLAS_CORETYPE=%s)" % coretype if coretype else ""
    policy = "OMP_WAIT_POLICY=%s" % os.environ.get("OMP_WAIT_POLICY", "(unset)")
    if openblas is not None:
        print("  OpenBLAS threads set to %d%s; %s" % (openblas, extra, policy))
    else:
        print("  %s%s" % (policy, extra))
    if torch.get_num_threads() != threads:
        print("  warning: PyTorch uses %d thread(s), not %d" % (torch.get_num_threads(), threads))


# --------------------------------------------------------------------------------------------


def main():
    args = parse_args()
    # rnnl-train runs in the caller's environment, untouched (OPENBLAS_CORETYPE included).
    rnnl_env = dict(os.environ)
    # libgomp reads OMP_WAIT_POLICY when it is loaded, i.e. when torch is imported below.
    wait_policy = args.omp_wait_policy
    if wait_policy is None:
        wait_policy = os.environ.get("OMP_WAIT_POLICY", "passive")
    if wait_policy == "unset":
        os.environ.pop("OMP_WAIT_POLICY", None)
    else:
        os.environ["OMP_WAIT_POLICY"] = wait_policy.upper()
    try:
        import numpy as np
        import torch
    except ImportError:
        print("compare_pytorch: PyTorch not available (apt-get install python3-torch libopenblas0-pthread); skipping")
        return 0

    names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    missing = [n for n in names if not (args.data_dir / n).is_file() and not (args.data_dir / (n + ".gz")).is_file()]
    if missing:
        print(
            "compare_pytorch: MNIST not found in %s (missing %s); fetch it with: bash data/fetch-mnist.sh"
            % (args.data_dir, ", ".join(missing)),
            file=sys.stderr,
        )
        return 1
    if not os.access(str(args.rnnl_train), os.X_OK) or not args.rnnl_train.is_file():
        print(
            "compare_pytorch: %s is not an executable; build it first "
            "(cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build --target rnnl-train) "
            "or pass --rnnl-train PATH" % args.rnnl_train,
            file=sys.stderr,
        )
        return 1

    torch.set_num_threads(args.threads)
    report_environment(torch, args.threads)
    train, test = load_mnist(args.data_dir, np, torch)
    print("MNIST: %d train / %d test images from %s" % (len(train[0]), len(test[0]), args.data_dir))
    print(
        "one-epoch runs, %d per side per model (medians reported), batch %d, %d thread(s); "
        "timing covers the training loop only\n" % (max(1, args.repeat), args.batch, args.threads)
    )

    results = []
    for name in args.models:
        rnnl_runs, torch_runs, placements = [], [], []
        for attempt in range(max(1, args.repeat)):
            print("training %s (%d/%d) ... rnnl" % (name, attempt + 1, max(1, args.repeat)), end="", flush=True)
            before = probe_placement(args, rnnl_env)
            rnnl_runs.append(rnnl_train_one_epoch(args, name, rnnl_env))
            print(" %.0f samples/s; pytorch" % rnnl_runs[-1][0], end="", flush=True)
            torch_runs.append(torch_train_one_epoch(name, train, test, args.batch, args.seed, torch))
            placements.append(pair_placement(before, probe_placement(args, rnnl_env)))
            label = ""
            if placements[-1] == "changed":
                label = " (placement changed during the pair)"
            elif placements[-1] is not None:
                label = " (%s)" % PLACEMENT_LABELS[placements[-1]]
            print(
                " %.0f samples/s; ratio %.2fx%s" % (torch_runs[-1][0], rnnl_runs[-1][0] / torch_runs[-1][0], label),
                flush=True,
            )
        # The machine's speed drifts between levels over minutes (its two core placements, which the
        # probe tells apart); a run and the one right after it usually share a level, so the median
        # of the per-pair ratios is the steadier figure, and the ratios per placement steadier still.
        pair_ratios = sorted(r[0] / t[0] for r, t in zip(rnnl_runs, torch_runs))
        by_placement = {}
        for (r, t), placement in zip(zip(rnnl_runs, torch_runs), placements):
            if placement in (True, False):
                by_placement.setdefault(placement, []).append(r[0] / t[0])
        rnnl_sps = sorted(r[0] for r in rnnl_runs)[len(rnnl_runs) // 2]
        torch_sps = sorted(r[0] for r in torch_runs)[len(torch_runs) // 2]
        rnnl_acc = rnnl_runs[0][1]
        torch_acc = torch_runs[0][1]
        results.append(
            {
                "model": name,
                "threads": args.threads,
                "batch": args.batch,
                "rnnl_samples_per_s": round(rnnl_sps, 1),
                "torch_samples_per_s": round(torch_sps, 1),
                "ratio": round(rnnl_sps / torch_sps, 3),
                "paired_ratio_median": round(pair_ratios[len(pair_ratios) // 2], 3),
                "paired_ratio_min": round(pair_ratios[0], 3),
                "paired_ratio_max": round(pair_ratios[-1], 3),
                "rnnl_test_acc": round(rnnl_acc, 4),
                "torch_test_acc": round(torch_acc, 4),
                "torch_version": torch.__version__,
            }
        )
        # Per placement: pairs_<key> always; the ratios' median and minimum when there are pairs.
        results[-1]["pair_placements"] = [
            "changed" if p == "changed" else {True: "shared_cache", False: "no_shared_cache", None: None}[p]
            for p in placements
        ]
        for placement, key in ((True, "shared_cache"), (False, "no_shared_cache")):
            ratios = sorted(by_placement.get(placement, []))
            results[-1]["pairs_" + key] = len(ratios)
            if ratios:
                results[-1]["paired_ratio_median_" + key] = round(ratios[len(ratios) // 2], 3)
                results[-1]["paired_ratio_min_" + key] = round(ratios[0], 3)

    header = "%-10s %7s %5s  %14s  %17s  %6s  %8s  %11s" % (
        "model", "threads", "batch", "rnnl samples/s", "pytorch samples/s", "ratio", "rnnl acc", "pytorch acc",
    )  # fmt: skip
    print("\n" + header)
    for r in results:
        print(
            "%-10s %7d %5d  %14.0f  %17.0f  %5.2fx  %7.2f%%  %10.2f%%"
            % (
                r["model"], r["threads"], r["batch"], r["rnnl_samples_per_s"], r["torch_samples_per_s"],
                r["ratio"], 100 * r["rnnl_test_acc"], 100 * r["torch_test_acc"],
            )  # fmt: skip
        )
    print()
    for r in results:
        print(
            "%s: rnnl is %.2fx PyTorch (%.0f vs %.0f training samples/s, medians; %d thread(s), batch %d, "
            "torch %s); run by run %.2fx median, %.2fx-%.2fx"
            % (
                r["model"], r["ratio"], r["rnnl_samples_per_s"], r["torch_samples_per_s"],
                r["threads"], r["batch"], r["torch_version"],
                r["paired_ratio_median"], r["paired_ratio_min"], r["paired_ratio_max"],
            )  # fmt: skip
        )
        for key, words in (("shared_cache", "cores sharing a cache"), ("no_shared_cache", "cores sharing no cache")):
            if r.get("pairs_" + key):
                print(
                    "  %d pair(s) with %s: %.2fx median, %.2fx lowest"
                    % (r["pairs_" + key], words, r["paired_ratio_median_" + key], r["paired_ratio_min_" + key])
                )

    if args.out:
        with open(args.out, "w") as f:
            for r in results:
                f.write(json.dumps(r) + "\n")
        print("results in %s" % args.out)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, ValueError, OSError) as error:
        print("compare_pytorch: %s" % error, file=sys.stderr)
        sys.exit(1)
