"""Training data: packed windows over pretokenized shards, or packing on the fly from Parquet."""
