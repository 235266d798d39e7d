"""What the settings panel says about the model (no server needed)."""

from __future__ import annotations

from types import SimpleNamespace

from mrrec_chat.ui.app import adapter_label


def test_the_panel_names_the_adapter_the_model_really_runs_with(tmp_path) -> None:
    assert adapter_label(None) == ""  # memory-only mode: no model
    assert adapter_label(SimpleNamespace(adapter=None)) == ""  # the backend runs without an adapter
    assert adapter_label(SimpleNamespace(adapter=str(tmp_path / "smollm2-135m-mrrec"))) == "smollm2-135m-mrrec"
    assert adapter_label(SimpleNamespace()) == ""  # a server backend: its own weights
