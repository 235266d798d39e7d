"""What the settings panel says about the model (no server needed)."""

from __future__ import annotations

from mrrec_chat.config import Settings
from mrrec_chat.llm.local import default_adapter_dir
from mrrec_chat.ui.app import adapter_label


def test_the_panel_names_the_adapter_the_model_really_runs_with(tmp_path) -> None:
    assert adapter_label(Settings(llm_model="no-such-model", llm_adapter="auto")) == ""  # auto, nothing found
    assert adapter_label(Settings(llm_adapter="none")) == ""
    assert adapter_label(Settings(llm_adapter=str(tmp_path))) == str(tmp_path)
    assert adapter_label(Settings(llm_backend="openai", llm_adapter=str(tmp_path))) == ""  # the server's own weights
    shipped = default_adapter_dir("smollm2-135m")
    expected = f"{shipped.name} (tuned policy, auto)" if (shipped / "adapter_config.json").exists() else ""
    assert adapter_label(Settings(llm_model="smollm2-135m", llm_adapter="auto")) == expected
