"""The training loop: Accelerate over packed windows, CodeParrot's recipes, exact resume.

One optimizer step takes `global_batch` sequences: `micro_batch` per process per forward
pass, `global_batch / (micro_batch * processes)` passes accumulated through
`accelerator.accumulate`. The learning rate follows the recipe's warmup and cosine decay in
optimizer steps, whatever the number of processes. A checkpoint (`accelerator.save_state`)
holds model, optimizer, scheduler, RNG states and the data position (epoch and batches
consumed), so `--resume` continues with the very batch and random numbers that came next.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from accelerate import Accelerator
from accelerate.utils import GradientAccumulationPlugin, set_seed
from torch.utils.tensorboard import SummaryWriter
from tqdm.auto import tqdm
from transformers import AutoTokenizer
from transformers.utils import SAFE_WEIGHTS_INDEX_NAME, SAFE_WEIGHTS_NAME

from dataprep.cli import UsageError, check_options, option
from dataprep.pretokenize import META
from modeling.data.sources import DataPosition, PackedSource, StreamSource
from modeling.evaluation.validation import evaluate
from modeling.initialize import load_model
from modeling.inputs import check_tokens, model_folder, sequence_length
from modeling.metrics import flops_per_token, mfu, non_embedding_params, peak_flops
from modeling.optim import adamw, cosine_schedule
from modeling.processes import joined_processes

CHECKPOINTS = "checkpoints"
LOG = "log.jsonl"
TENSORBOARD = "tensorboard"
RUN_CONFIG = "train_config.json"
# What a run writes in --output besides the final model.
RUN_FILES = (CHECKPOINTS, LOG, TENSORBOARD, RUN_CONFIG)
# The final model's weights (save_pretrained: one file, or shards and their index); their
# presence is what says a run in --output finished.
WEIGHT_FILES = (SAFE_WEIGHTS_NAME, SAFE_WEIGHTS_INDEX_NAME, "model-*-of-*.safetensors")


@dataclass(frozen=True)
class Recipe:
    """The settings of one of CodeParrot's runs, in global (all-process) terms."""

    global_batch: int
    micro_batch: int
    lr: float
    warmup_steps: int
    max_steps: int


RECIPES = {
    # codeparrot-small: 12 sequences per GPU on 16 GPUs, no accumulation.
    "codeparrot-small": Recipe(
        global_batch=192, micro_batch=12, lr=5e-4, warmup_steps=2000, max_steps=150_000
    ),
    # codeparrot (1.5B): 2 sequences per GPU on 16 GPUs, 16 accumulation steps.
    "codeparrot": Recipe(
        global_batch=512, micro_batch=2, lr=2e-4, warmup_steps=750, max_steps=50_000
    ),
}


@dataclass(frozen=True)
class TrainConfig:
    """Settings of a training run; the recipe fills in whatever is left unset."""

    model: str = option(help="model folder to start from (jobs/init_model.py's output)")
    data: str = option(
        help="pretokenized folder (jobs/pretokenize.py), or clean/ with train/ and valid/ "
        "Parquet shards to pack on the fly (CodeParrot's ConstantLengthDataset)"
    )
    output: str = option(help="folder for checkpoints, logs and the trained model")
    recipe: str = option(
        "codeparrot-small", help="codeparrot-small or codeparrot (1.5B)", choices=tuple(RECIPES)
    )
    global_batch: int | None = option(
        None, help="sequences per optimizer step, all processes (default: the recipe's)", minimum=1
    )
    micro_batch: int | None = option(
        None, help="sequences per forward pass on one process (default: the recipe's)", minimum=1
    )
    lr: float | None = option(
        None, help="peak learning rate, above 0 (default: the recipe's)", above=0
    )
    warmup_steps: int | None = option(
        None, help="linear warmup, in optimizer steps (default: the recipe's)", minimum=0
    )
    max_steps: int | None = option(
        None, help="optimizer steps; the cosine reaches 0 there (default: the recipe's)", minimum=1
    )
    stop_at_step: int | None = option(
        None,
        help="end this run after that step with a checkpoint (e.g. a job's time limit)",
        minimum=1,
    )
    seq_len: int | None = option(
        None,
        help="tokens per sequence, at most the model's context (default, or 0: the context)",
        minimum=0,
    )
    weight_decay: float = option(
        0.1, help="AdamW decay of all weights but biases and ln_*", minimum=0
    )
    grad_clip: float = option(1.0, help="clip the gradient norm to this, above 0", above=0)
    mixed_precision: str = option("bf16", help="bf16, fp16 or no", choices=("bf16", "fp16", "no"))
    attn: str = option(
        "sdpa",
        help="attention implementation: sdpa, eager or flash_attention_2",
        choices=("sdpa", "eager", "flash_attention_2"),
    )
    gradient_checkpointing: bool = option(False, help="recompute activations in the backward")
    compile: bool = option(False, help="torch.compile the model")
    shuffle: bool = option(True, help="shuffle the windows, a new order each epoch")
    num_workers: int = option(1, help="DataLoader worker processes per training process", minimum=0)
    eval_every: int = option(
        1000,
        help="evaluate on the valid split every this many steps and at the end (0: never)",
        minimum=0,
    )
    eval_batches: int = option(50, help="valid batches per evaluation, per process", minimum=1)
    save_every: int = option(
        1000,
        help="checkpoint every this many steps and at the end (0: only at --stop-at-step)",
        minimum=0,
    )
    keep_last: int = option(3, help="checkpoints to keep", minimum=1)
    log_every: int = option(10, help="log every this many steps", minimum=1)
    resume: bool = option(
        False,
        help="continue from the latest checkpoint under --output (an empty --output starts at "
        "step 0, so a preempted job can always pass it)",
    )
    overwrite: bool = option(
        False,
        help="start over in an --output that holds an earlier run, deleting its checkpoints, "
        "logs and final weights",
    )
    seed: int = option(1, help="seed of data order, dropout and everything random")

    def __post_init__(self) -> None:
        check_options(self)
        if self.resume and self.overwrite:
            raise ValueError("--resume continues the run in --output, --overwrite deletes it")


def resolve(config: TrainConfig, n_processes: int) -> tuple[Recipe, int]:
    """The recipe with the command line's overrides, and the accumulation steps it needs."""
    base = asdict(RECIPES[config.recipe])
    recipe = Recipe(
        **{k: v if getattr(config, k) is None else getattr(config, k) for k, v in base.items()}
    )
    if recipe.warmup_steps >= recipe.max_steps:
        raise UsageError(
            f"--warmup-steps {recipe.warmup_steps} is not below --max-steps {recipe.max_steps}: "
            "the learning rate would never decay (the recipe's warmup is for its own length: "
            "give --warmup-steps with a shorter --max-steps)"
        )
    per_pass = recipe.micro_batch * n_processes
    if recipe.global_batch % per_pass:
        raise UsageError(
            f"--global-batch {recipe.global_batch} is not a multiple of --micro-batch "
            f"{recipe.micro_batch} x {n_processes} process(es)"
        )
    return recipe, recipe.global_batch // per_pass


def _earlier_run(config: TrainConfig, processes: int) -> list[Path]:
    """What an earlier run left in --output, to delete before this one starts (--overwrite).

    Without --overwrite or --resume it raises: a fresh run beside old checkpoints would append
    to their log, and --keep-last would delete its own checkpoints before the old run's later
    ones. --resume refuses settings that would change the run it continues; with no
    checkpoint it starts over, unless the earlier run finished.
    """
    output = Path(config.output)
    earlier = [output / name for name in RUN_FILES if (output / name).exists()]
    weights = _final_weights(output, config.model)
    if not earlier and not weights:
        return []
    if config.resume:
        if checkpoints(output):
            _refuse_other_settings(config, processes)
            return []
        if weights:
            raise UsageError(
                f"{output} holds a finished run and no checkpoint: nothing to resume "
                "(--overwrite starts over and deletes it)"
            )
        return earlier  # stopped before its first checkpoint: it starts over, its log too
    if not config.overwrite:
        found = checkpoints(output)
        latest = f", checkpoints up to {found[-1].name}" if found else ""
        raise UsageError(
            f"{output} holds an earlier run ({', '.join(p.name for p in earlier + weights)}"
            f"{latest}): "
            "--resume continues it, --overwrite starts over and deletes it, or choose another "
            "--output"
        )
    return earlier + weights


def _run_record(config: TrainConfig, processes: int) -> dict:
    """What train_config.json records of a run: its options as they resolve (the recipe's
    values where none was given), the kind of data and how many processes ran it."""
    recipe, _ = resolve(config, processes)
    return {
        **asdict(config),
        **asdict(recipe),
        "seq_len": sequence_length(config.model, config.seq_len),
        "pretokenized": (Path(config.data) / META).exists(),
        "processes": processes,
    }


# Options a resumed run may change: where things are, how often it logs, evaluates and saves,
# when it stops, and how it computes the same thing. The rest shape the run (the schedule, the
# batches, the data order and position) and must stay as the checkpoints were made with;
# --compile too, as a compiled model's checkpoint names its weights otherwise.
_FREE_ON_RESUME = frozenset(
    (
        "model", "data", "output", "stop_at_step", "attn", "gradient_checkpointing",
        "eval_every", "eval_batches", "save_every", "keep_last", "log_every", "resume",
        "overwrite",
    )
)  # fmt: skip


def _refuse_other_settings(config: TrainConfig, processes: int) -> None:
    """Raise UsageError if --resume would continue a run made with other settings."""
    path = Path(config.output) / RUN_CONFIG
    if not path.exists():
        return
    then, now = json.loads(path.read_text()), _run_record(config, processes)
    changed = {
        key: (then[key], now[key])
        # Keys on one side only are options of another version of this code: not compared.
        for key in sorted(then.keys() & now.keys())
        if key not in _FREE_ON_RESUME and then[key] != now[key]
    }
    if changed:
        said = "; ".join(f"{key}: {old!r} then, {new!r} now" for key, (old, new) in changed.items())
        raise UsageError(
            f"--resume continues {config.output} as it was started, not with other settings "
            f"({said}); --overwrite starts over with them"
        )


def _final_weights(output: Path, start: str) -> list[Path]:
    """The weights a finished earlier run left in `output`, unless they are this run's start.

    Left in place, an interrupted new run would look finished, with the old run's model.
    """
    if output.resolve() == Path(start).resolve():
        return []
    return sorted({path for pattern in WEIGHT_FILES for path in output.glob(pattern)})


def checkpoints(output: str | Path) -> list[Path]:
    """Checkpoint folders under `output`, oldest first."""
    root = Path(output) / CHECKPOINTS
    return sorted(root.glob("step-*")) if root.is_dir() else []


def _data_source(
    config: TrainConfig, accelerator: Accelerator, seq_len: int, micro_batch: int
) -> PackedSource | StreamSource:
    """Pretokenized windows when --data holds meta.json; else packing of Parquet on the fly."""
    common = {
        "shuffle": config.shuffle,
        "seed": config.seed,
        "num_workers": config.num_workers,
        "rank": accelerator.process_index,
        "world_size": accelerator.num_processes,
    }
    if (Path(config.data) / META).exists():
        check_tokens(config.data, config.model, ["train", "valid"])
        return PackedSource(config.data, seq_len, micro_batch, **common)
    tokenizer = AutoTokenizer.from_pretrained(config.model).backend_tokenizer
    return StreamSource(config.data, tokenizer, seq_len, micro_batch, **common)


def train(config: TrainConfig) -> dict:
    """Train; return the last logged metrics and evaluation."""
    processes = joined_processes().num_processes
    recipe, accumulation = resolve(config, processes)
    seq_len = sequence_length(model_folder(config.model), config.seq_len)
    stale = _earlier_run(config, processes)
    accelerator = Accelerator(
        mixed_precision=config.mixed_precision,
        gradient_accumulation_plugin=GradientAccumulationPlugin(
            num_steps=accumulation, sync_with_dataloader=False
        ),
    )
    set_seed(config.seed)
    output = Path(config.output)
    # The data before the weights: a wrong folder fails before a large model loads.
    source = _data_source(config, accelerator, seq_len, recipe.micro_batch)
    if accelerator.is_main_process:
        for path in stale:  # only once the inputs are known to be good
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
    accelerator.wait_for_everyone()
    model = load_model(config.model, attn_implementation=config.attn)
    if config.gradient_checkpointing:
        # transformers 5.2x renamed it; the GPU machines' 5.17 has only the old name.
        enable = getattr(model, "activation_checkpointing_enable", None)
        (enable or model.gradient_checkpointing_enable)()
        model.config.use_cache = False
    per_token = flops_per_token(non_embedding_params(model), model.config, seq_len)
    optimizer = adamw(
        model, recipe.lr, config.weight_decay, fused=accelerator.device.type == "cuda"
    )
    # Not prepared: a prepared scheduler steps once per process, and the warmup and decay
    # here count optimizer steps.
    scheduler = cosine_schedule(optimizer, recipe.warmup_steps, recipe.max_steps)
    if config.compile:
        model = torch.compile(model)
    model, optimizer = accelerator.prepare(model, optimizer)
    source.prepare(accelerator)
    position = DataPosition()
    accelerator.register_for_checkpointing(scheduler, position)
    resumed_at = None
    if config.resume:
        saved = checkpoints(output)
        if saved:
            accelerator.load_state(str(saved[-1]))
            resumed_at = position.step
            accelerator.print(f"resumed from {saved[-1]} at step {position.step}")
        else:
            accelerator.print(f"nothing to resume in {output} yet: starting at step 0")
    per_epoch = source.batches_per_epoch()
    if per_epoch is not None and per_epoch < accumulation:
        raise UsageError(
            f"{per_epoch} batches per epoch cannot fill one step of {accumulation}: "
            "more data, a smaller --global-batch, or a smaller --micro-batch"
        )

    log = _Log(accelerator, output, config, resumed_at)
    last_step = min(recipe.max_steps, config.stop_at_step or recipe.max_steps)
    progress = tqdm(
        total=recipe.max_steps,
        initial=position.step,
        disable=not accelerator.is_main_process,
        desc="training",
    )
    window = _Window()
    metrics: dict = {}
    model.train()
    batches = source.batches(accelerator, position)
    while position.step < last_step:
        waited = time.perf_counter()
        batch = next(batches)
        window.wait += time.perf_counter() - waited
        with accelerator.accumulate(model):
            loss = model(**batch).loss
            accelerator.backward(loss)
            if accelerator.sync_gradients:
                window.grad_norm = accelerator.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        window.loss = window.loss + loss.detach().float()  # stays on the device: no sync
        window.passes += 1
        if not accelerator.sync_gradients:
            continue
        window.lr = scheduler.get_last_lr()[0]  # the rate this step used
        if not accelerator.optimizer_step_was_skipped:
            # fp16's scaler skips a step whose gradients overflowed; the schedule follows the
            # updates made, as in transformers' Trainer.
            scheduler.step()
        position.step += 1
        progress.update(1)
        if position.step % config.log_every == 0 or position.step == last_step:
            metrics = window.report(accelerator, position, seq_len, recipe.global_batch, per_token)
            log.write(metrics)
            progress.set_postfix(loss=f"{metrics['loss']:.3f}")
            window = _Window()
        paused = time.perf_counter()
        # Saved before evaluating: a failed evaluation does not lose the step's checkpoint.
        stopping = position.step == last_step < recipe.max_steps  # --stop-at-step's checkpoint
        if stopping or (
            config.save_every
            and (position.step % config.save_every == 0 or position.step == last_step)
        ):
            source.checkpointing(accelerator, position)
            _save_checkpoint(accelerator, output, position.step, config.keep_last)
        if config.eval_every and (
            position.step % config.eval_every == 0 or position.step == last_step
        ):
            metrics |= evaluate(accelerator, model, source.valid, config.eval_batches)
            log.write(
                {
                    "step": position.step,
                    "valid_loss": metrics["valid_loss"],
                    "perplexity": metrics["perplexity"],
                }
            )
        # Evaluation and checkpoints do not count against the training speed.
        window.paused += time.perf_counter() - paused
    progress.close()

    if position.step >= recipe.max_steps:
        _save_model(accelerator, model, config.model, output)
    elif accelerator.is_main_process:
        print(
            f"stopped after step {position.step} of {recipe.max_steps}: --resume continues "
            f"from {checkpoints(output)[-1]}"
        )
    log.close()
    return metrics


class _Window:
    """What happened since the last log line."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.loss: torch.Tensor | float = 0.0
        self.passes = 0
        self.wait = 0.0
        self.grad_norm: torch.Tensor | float = 0.0
        self.lr = 0.0
        self.paused = 0.0

    def report(
        self,
        accelerator: Accelerator,
        position: DataPosition,
        seq_len: int,
        global_batch: int,
        per_token: float,
    ) -> dict:
        """The log line: mean loss over all processes, lr, grad norm, speed, MFU, data wait."""
        loss = torch.as_tensor(self.loss, device=accelerator.device) / max(1, self.passes)
        loss = accelerator.reduce(loss, reduction="mean").item()
        seconds = time.perf_counter() - self.started - self.paused
        steps = self.passes // max(1, accelerator.gradient_accumulation_steps)
        tokens_per_s = steps * global_batch * seq_len / seconds
        grad_norm = float(self.grad_norm)
        utilisation = mfu(
            tokens_per_s, per_token, peak_flops(accelerator.device), accelerator.num_processes
        )
        return {
            "step": position.step,
            "epoch": position.epoch,
            "loss": loss,
            "lr": self.lr,
            "grad_norm": grad_norm,
            "tokens_per_s": tokens_per_s,
            "mfu": utilisation,
            "data_wait": self.wait / seconds,
        }


def _logged_step(line: str) -> float:
    """The step of a log.jsonl line; infinity for a line cut short (a run killed writing it)."""
    try:
        return json.loads(line)["step"]
    except (json.JSONDecodeError, KeyError, TypeError):
        return float("inf")


class _Log:
    """JSON Lines and TensorBoard logs, written by the main process only.

    A run resumed from the checkpoint of step N drops what the earlier run logged after N:
    those steps are done again, and each step is logged once.
    """

    def __init__(
        self, accelerator: Accelerator, output: Path, config: TrainConfig, resumed_at: int | None
    ) -> None:
        self.main = accelerator.is_main_process
        if self.main:
            output.mkdir(parents=True, exist_ok=True)
            if resumed_at is not None and (output / LOG).exists():
                lines = (output / LOG).read_text(encoding="utf-8").splitlines(keepends=True)
                kept = [line for line in lines if _logged_step(line) <= resumed_at]
                (output / LOG).write_text("".join(kept), encoding="utf-8")
            self.jsonl = (output / LOG).open("a", encoding="utf-8")
            purge = None if resumed_at is None else resumed_at + 1
            self.board = SummaryWriter(str(output / TENSORBOARD), purge_step=purge)
            record = _run_record(config, accelerator.num_processes)
            (output / RUN_CONFIG).write_text(json.dumps(record, indent=2) + "\n")

    def write(self, metrics: dict) -> None:
        """Append one record to both logs."""
        if not self.main:
            return
        self.jsonl.write(json.dumps(metrics) + "\n")
        self.jsonl.flush()
        for key, value in metrics.items():
            if key != "step" and value is not None:
                self.board.add_scalar(key, value, metrics["step"])

    def close(self) -> None:
        """Flush and close both logs."""
        if self.main:
            self.jsonl.close()
            self.board.close()


def _save_checkpoint(accelerator: Accelerator, output: Path, step: int, keep_last: int) -> None:
    """Save the training state as `step-N`, then drop all but the last `keep_last`.

    The state is written aside and renamed when every process is done: a run killed while
    saving leaves the previous checkpoint the newest, for --resume to continue from.
    """
    final = output / CHECKPOINTS / f"step-{step:07d}"
    partial = final.with_name(f".partial-{final.name}")
    if accelerator.is_main_process and partial.exists():
        shutil.rmtree(partial)  # left by a run killed while saving this step
    accelerator.wait_for_everyone()
    accelerator.save_state(str(partial))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        partial.rename(final)
        for old in checkpoints(output)[:-keep_last]:
            shutil.rmtree(old)
    accelerator.wait_for_everyone()  # every process sees the checkpoint in its place


def _save_model(accelerator: Accelerator, model: torch.nn.Module, start: str, output: Path) -> None:
    """The trained model and its tokenizer in `output`, loadable with from_pretrained."""
    accelerator.wait_for_everyone()
    unwrapped = accelerator.unwrap_model(model)
    unwrapped = getattr(unwrapped, "_orig_mod", unwrapped)  # torch.compile's wrapper
    unwrapped.save_pretrained(
        str(output), is_main_process=accelerator.is_main_process, save_function=accelerator.save
    )
    if accelerator.is_main_process:
        AutoTokenizer.from_pretrained(start).save_pretrained(str(output))
