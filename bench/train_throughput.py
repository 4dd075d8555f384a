"""Benchmark: training throughput, MFU and data wait of the real training loop.

    .venv/bin/python bench/train_throughput.py                       # CPU: correctness run
    python bench/train_throughput.py --presets codeparrot-small,codeparrot \\
        --micro-batch 16,4 --steps 30 --mixed-precision bf16 --compile   # one GPU

For each preset, a model is initialised in code (vocabulary 32,768) and `modeling.train.train`
runs on random token shards in the pretokenized format (so the memory-mapped loader is the one
timed), at sequence length 1024, without evaluation or checkpoints. Reported, averaged over
the steps after --skip: tokens/s, MFU (nanoGPT's 6N + 12 L H Q T FLOPs per token over the
device's bf16 peak: 989 TFLOP/s for an H100 SXM, 312 for an A100; --peak-tflops for others)
and the fraction of step time spent waiting for data. On CPU, --layers keeps each preset's
width and heads but fewer layers, so the 1.5B shape fits in memory.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import torch
from submit import ROOT
from transformers import GPT2LMHeadModel

from modeling.config import model_config
from modeling.metrics import PEAK_TFLOPS, flops_per_token, non_embedding_params
from modeling.train import TrainConfig, train

VOCAB = 32_768


def random_tokens(output: Path, n_tokens: int, seed: int = 0) -> None:
    """A pretokenized folder of random ids (train and valid), a document end every ~1,000."""
    rng = np.random.default_rng(seed)
    splits = {}
    for split, n in (("train", n_tokens), ("valid", max(4096, n_tokens // 100))):
        ids = rng.integers(1, VOCAB, n, dtype=np.uint16)
        ids[rng.random(n) < 1e-3] = 0
        (output / split).mkdir(parents=True, exist_ok=True)
        ids.tofile(output / split / "part-00000.bin")
        splits[split] = {"shards": [{"file": "part-00000.bin", "tokens": n}], "tokens": n}
    meta = {"dtype": "<u2", "eos_id": 0, "vocab_size": VOCAB, "splits": splits}
    (output / "meta.json").write_text(json.dumps(meta))
    (output / "_SUCCESS").write_text("")


def measure(args: argparse.Namespace, preset: str, micro_batch: int, work: Path) -> dict:
    """Train `preset` for --steps steps; the mean figures of the steps after --skip."""
    config = model_config(preset, VOCAB, 0)
    if args.layers:
        config.n_layer = args.layers
    model_dir = work / f"model-{preset}"
    with torch.device("cpu"):
        GPT2LMHeadModel(config).save_pretrained(model_dir)
    output = work / f"run-{preset}"
    train(
        TrainConfig(
            model=str(model_dir),
            data=str(work / "tokens"),
            output=str(output),
            recipe="codeparrot-small",
            global_batch=micro_batch,
            micro_batch=micro_batch,
            max_steps=args.steps,
            warmup_steps=1,
            seq_len=args.seq_len,
            mixed_precision=args.mixed_precision,
            compile=args.compile,
            gradient_checkpointing=args.gradient_checkpointing,
            num_workers=args.num_workers,
            eval_every=0,
            save_every=0,
            log_every=1,
            overwrite=True,
        )
    )
    records = [json.loads(line) for line in (output / "log.jsonl").read_text().splitlines()]
    timed = [r for r in records if "tokens_per_s" in r][args.skip :]
    mean = {key: float(np.mean([r[key] for r in timed])) for key in ("tokens_per_s", "data_wait")}
    mfus = [r["mfu"] for r in timed if r["mfu"] is not None]
    if mfus:
        mean["mfu"] = float(np.mean(mfus))
    elif args.peak_tflops:
        with torch.device("meta"):
            n = non_embedding_params(GPT2LMHeadModel(config))
        achieved = mean["tokens_per_s"] * flops_per_token(n, config, args.seq_len)
        mean["mfu"] = achieved / (args.peak_tflops * 1e12)
    shutil.rmtree(model_dir)
    return mean | {"layers": config.n_layer, "micro_batch": micro_batch}


def main() -> None:
    """Measure every preset and print one line each."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    on_gpu = torch.cuda.is_available()
    parser.add_argument("--presets", default="codeparrot-small,codeparrot")
    parser.add_argument("--micro-batch", default="1,1", help="per preset, comma-separated")
    parser.add_argument("--seq-len", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=4 if not on_gpu else 30)
    parser.add_argument("--skip", type=int, default=1, help="first steps left out (warm-up)")
    parser.add_argument("--layers", type=int, default=0 if on_gpu else 1)
    parser.add_argument("--mixed-precision", default="bf16" if on_gpu else "no")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--gradient-checkpointing", action="store_true")
    parser.add_argument("--num-workers", type=int, default=2)
    parser.add_argument("--peak-tflops", type=float, default=None, help="when not in the table")
    parser.add_argument("--work", type=Path, default=ROOT / "work/bench/train")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    random_tokens(args.work / "tokens", n_tokens=max(2_000_000, args.steps * 64 * args.seq_len))
    device = torch.cuda.get_device_name() if on_gpu else "CPU"
    print(f"device: {device} (bf16 peaks known: {PEAK_TFLOPS}), sequence length {args.seq_len}")
    presets = args.presets.split(",")
    batches = [int(b) for b in args.micro_batch.split(",")]
    for preset, micro_batch in zip(presets, batches + batches[-1:] * len(presets), strict=False):
        m = measure(args, preset, micro_batch, args.work)
        mfu = f"{m['mfu']:.1%}" if "mfu" in m else "n/a (no peak known)"
        print(
            f"{preset:<18} layers {m['layers']:>2}  micro batch {m['micro_batch']:>3}  "
            f"{m['tokens_per_s']:>10,.0f} tokens/s  MFU {mfu:>8}  data wait {m['data_wait']:.2%}"
        )


if __name__ == "__main__":
    main()
