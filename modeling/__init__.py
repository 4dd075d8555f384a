"""GPT-2 code models after CodeParrot: configs, data loading, training and evaluation."""
