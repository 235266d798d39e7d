"""MR.Rec Chat: a conversational recommender after MR.Rec (arXiv 2510.14629).

Memory (hierarchical per user + cross-user global) lives in Chroma; an LLM policy reasons in
several steps, calls a memory-retrieval tool, and writes an ideal item profile that dense
retrieval grounds to real catalog items. Nothing heavy is imported here.
"""

__version__ = "0.1.0"
