"""Settings: one place, env vars and CLI flags, clear errors for bad values."""

from __future__ import annotations

import argparse

import pytest

from mrrec_chat.config import Settings


def test_defaults_are_the_offline_embedded_ones():
    s = Settings.from_env({})
    assert (s.llm_model, s.embedding_model, s.dataset, s.memory_top_k) == ("smollm2-135m", "all-MiniLM-L6-v2", "ml-100k", 3)


def test_env_then_cli_precedence():
    s = Settings.from_env({"MRREC_MEMORY_TOP_K": "5", "MRREC_SHOW_TRACE": "false", "MRREC_PORT": "9000"})
    assert s.memory_top_k == 5 and s.show_trace is False and s.port == 9000
    parser = argparse.ArgumentParser()
    Settings.add_arguments(parser)
    args = parser.parse_args(["--memory-top-k", "2", "--llm-model", "Qwen/Qwen2.5-1.5B-Instruct"])
    s = Settings.from_args(args)
    assert s.memory_top_k == 2 and s.llm_model == "Qwen/Qwen2.5-1.5B-Instruct"


def test_bad_env_value_names_the_variable():
    with pytest.raises(ValueError, match="MRREC_MAX_ROUNDS"):
        Settings.from_env({"MRREC_MAX_ROUNDS": "three"})
