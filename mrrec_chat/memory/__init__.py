"""Hierarchical memory: schema, Chroma store, builders, extraction and write-back."""
