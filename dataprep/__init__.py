"""Spark data pipeline for GitHub Python files: read, dedup, filter, split, statistics."""
