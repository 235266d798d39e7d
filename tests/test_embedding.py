"""The embedder's light path (transformers + mean pooling) gives sentence-transformers' vectors.

Self-contained: the embedded all-MiniLM-L6-v2 from its PyPI package. Stored memories and the
catalog index were embedded with sentence-transformers; the light path must give the same vectors.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from mrrec_chat.embedding import Embedder, MeanPoolingEncoder, _embedded_model_dir

TEXTS = ["A tense crime thriller", "  padded text  ", "", "x", "Heat (1995) Action Crime Thriller " * 60,
         "I can't stand horror. Any feel-good classics from the 80s?", "Café naïve résumé 😀", "\nnew\tline\n"]


def test_the_default_model_takes_the_light_path_with_sentence_transformers_vectors():
    model_dir = _embedded_model_dir()
    assert MeanPoolingEncoder.fits(model_dir)
    embedder = Embedder()
    assert isinstance(embedder._model, MeanPoolingEncoder) and embedder.dimension == 384
    assert type(embedder._model.model).__name__ == "_Bert"  # the torch-only BERT, not transformers' model code
    ours = embedder.embed(TEXTS, batch_size=3)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    sentence_transformers = pytest.importorskip("sentence_transformers")  # a test dependency, not the app's
    reference = sentence_transformers.SentenceTransformer(str(model_dir), device="cpu").encode(
        TEXTS, batch_size=3, normalize_embeddings=True, convert_to_numpy=True)
    assert np.abs(ours - reference).max() < 1e-5
    assert embedder.count_tokens("Heat is a great film") == 5
    assert embedder.count_tokens("word " * 400) == 400  # counting never truncates


def test_other_layouts_go_to_sentence_transformers(tmp_path):
    assert not MeanPoolingEncoder.fits(tmp_path)  # no modules.json
    (tmp_path / "modules.json").write_text('[{"idx": 0, "name": "0", "path": "", "type": "x.Transformer"}, '
                                           '{"idx": 1, "name": "1", "path": "1_Pooling", "type": "x.Pooling"}]')
    (tmp_path / "sentence_bert_config.json").write_text('{"max_seq_length": 128}')
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}')
    assert not MeanPoolingEncoder.fits(tmp_path)  # CLS pooling
    (tmp_path / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": true}')
    assert MeanPoolingEncoder.fits(tmp_path)


def test_starting_the_embedder_imports_neither_sentence_transformers_nor_model_code():
    import subprocess

    code = ("import sys; from mrrec_chat.embedding import Embedder; Embedder().embed(['hello']); "
            "print(sorted(m for m in ('sentence_transformers', 'bitsandbytes', 'peft', 'sklearn', "
            "'transformers.modeling_utils') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
    assert "kernels" not in out.stderr and "Loading weights" not in out.stderr, out.stderr
