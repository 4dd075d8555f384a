"""Presets, the stability flags, the saved model directory and eager/SDPA parity."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, GPT2LMHeadModel
from transformers.loss.loss_utils import LOSS_MAPPING

from dataprep.tokenizer import EOS
from modeling.config import PRESETS, model_config, padded
from modeling.initialize import init_model, load_model


def test_presets_have_codeparrots_shapes():
    shapes = {name: (s.n_layer, s.n_embd, s.n_head, s.n_positions) for name, s in PRESETS.items()}
    assert shapes["codeparrot-small"] == (12, 768, 12, 1024)
    assert shapes["codeparrot-large"] == (36, 1280, 20, 1024)
    assert shapes["codeparrot"] == (48, 1600, 25, 1024)
    config = model_config("codeparrot", 32_768, 0)
    assert config.scale_attn_by_inverse_layer_idx and config.reorder_and_upcast_attn
    # The 1.5B shape with CodeParrot's vocabulary: GPT-2 XL's size, less its larger vocabulary.
    with torch.device("meta"):
        n = sum(p.numel() for p in GPT2LMHeadModel(config).parameters())
    assert 1.50e9 < n < 1.53e9


def test_vocabulary_padding():
    assert padded(32_768, 64) == 32_768
    assert padded(32_769, 64) == 32_832
    assert padded(601, 1) == 601
    with pytest.raises(ValueError, match="choose one of"):
        model_config("gpt5", 100, 0)
    # 0 would divide by zero; a negative multiple would round down below the vocabulary.
    for multiple in (0, -64):
        with pytest.raises(ValueError, match="pad_vocab_to must be at least 1"):
            model_config("tiny", 601, 0, pad_vocab_to=multiple)


def test_saved_directory_loads_with_its_tokenizer(tokenizer_dir, tmp_path):
    init_model(tokenizer_dir, "tiny", tmp_path / "model")
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "model")
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "model")
    assert tokenizer.eos_token == EOS
    assert model.config.vocab_size == padded(len(tokenizer), 64) >= len(tokenizer)
    assert model.config.eos_token_id == model.config.bos_token_id == tokenizer.eos_token_id
    # Packed windows hold eos tokens, never padding: a pad id equal to eos would only warn.
    assert model.config.pad_token_id is None
    assert model.config.scale_attn_by_inverse_layer_idx and model.config.reorder_and_upcast_attn


def test_loaded_model_has_a_named_loss(tokenizer_dir, tmp_path):
    init_model(tokenizer_dir, "tiny", tmp_path / "model")
    model = load_model(tmp_path / "model")
    # A name transformers knows: with none it warns on the first loss of every run.
    assert model.loss_type in LOSS_MAPPING
    ids = torch.randint(0, 600, (2, 32), generator=torch.Generator().manual_seed(0))
    output = model(input_ids=ids, labels=ids)
    next_token = torch.nn.functional.cross_entropy(
        output.logits[:, :-1].flatten(0, 1), ids[:, 1:].flatten()
    )
    torch.testing.assert_close(output.loss, next_token)


@pytest.mark.parametrize("preset", ["tiny", "codeparrot-small"])
def test_eager_and_sdpa_give_the_same_logits(tokenizer_dir, tmp_path, preset):
    init_model(tokenizer_dir, preset, tmp_path / preset, seed=3)
    ids = torch.randint(0, 600, (2, 96), generator=torch.Generator().manual_seed(0))
    logits = {}
    for attn in ("eager", "sdpa"):
        model = AutoModelForCausalLM.from_pretrained(tmp_path / preset, attn_implementation=attn)
        assert model.config._attn_implementation == attn
        with torch.no_grad():
            logits[attn] = model.eval()(ids).logits
    torch.testing.assert_close(logits["eager"], logits["sdpa"], rtol=1e-4, atol=1e-4)
    # The layer-index scaling is not lost on the SDPA path: without it the logits differ.
    plain = AutoModelForCausalLM.from_pretrained(
        tmp_path / preset, attn_implementation="sdpa", scale_attn_by_inverse_layer_idx=False
    )
    with torch.no_grad():
        assert not torch.allclose(plain.eval()(ids).logits, logits["sdpa"], atol=1e-3)
