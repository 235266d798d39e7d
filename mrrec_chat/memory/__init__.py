"""Hierarchical memory: schema, Chroma store, builders, write-back, summary refresh and the memory API."""
