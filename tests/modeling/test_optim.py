"""Weight decay groups and the learning-rate schedule."""

from __future__ import annotations

import math

import pytest
from transformers import GPT2LMHeadModel

from modeling.config import model_config
from modeling.optim import adamw, cosine_schedule, parameter_groups


@pytest.fixture(scope="module")
def model():
    return GPT2LMHeadModel(model_config("tiny", 600, 0))


def test_biases_and_layernorm_weights_are_not_decayed(model):
    decay, no_decay = parameter_groups(model, 0.1)
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    names = {id(p): n for n, p in model.named_parameters()}
    decayed = {names[id(p)] for p in decay["params"]}
    kept = {names[id(p)] for p in no_decay["params"]}
    assert decayed.isdisjoint(kept) and decayed | kept == set(names.values())
    assert "transformer.h.0.ln_1.weight" in kept and "transformer.ln_f.weight" in kept
    assert "transformer.h.1.attn.c_attn.bias" in kept
    assert all(n.endswith("bias") or ".ln_" in n for n in kept)
    assert "transformer.h.0.attn.c_attn.weight" in decayed and "transformer.wte.weight" in decayed


def test_warmup_then_cosine_to_zero(model):
    optimizer = adamw(model, lr=1e-3, weight_decay=0.1)
    schedule = cosine_schedule(optimizer, warmup_steps=10, total_steps=110)
    rates = []
    for _ in range(110):
        rates.append(schedule.get_last_lr()[0])
        optimizer.step()
        schedule.step()
    assert rates[0] == 0 and rates[5] == pytest.approx(5e-4)
    assert rates[10] == pytest.approx(1e-3)
    assert rates[60] == pytest.approx(1e-3 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert schedule.get_last_lr()[0] == pytest.approx(0, abs=1e-12)
