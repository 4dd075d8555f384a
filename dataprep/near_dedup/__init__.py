"""MinHash near-dedup: shingles -> signatures -> LSH candidates -> verified edges -> components
-> a keep policy that removes a file only when a kept file is a verified near-duplicate of it.
"""
