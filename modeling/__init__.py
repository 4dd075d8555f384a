"""GPT-2 code models: tokenizer, configs, datasets, training and evaluation (see the issues)."""
