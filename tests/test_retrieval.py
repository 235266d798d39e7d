"""Grounding: exact ranking equals a naive reference; exclusion and avoided categories hold."""

from __future__ import annotations

import numpy as np

from mrrec_chat.retrieval import CatalogIndex


def test_rank_matches_naive_reference(tiny_dataset, embedder):
    catalog = CatalogIndex(tiny_dataset, embedder)
    rng = np.random.default_rng(0)
    for _ in range(20):
        query = rng.normal(size=embedder.dimension).astype(np.float32)
        ranked = [s.item.item_id for s in catalog.rank(query, 10)]
        naive = sorted(tiny_dataset.items, key=lambda i: -float(catalog.vector(i) @ query))[:10]
        assert ranked == naive


def test_exclude_and_avoid(tiny_dataset, embedder):
    catalog = CatalogIndex(tiny_dataset, embedder)
    top = catalog.search("scary horror movie", 5)
    assert top[0].item.categories.count("Horror") == 1
    excluded = {s.item.item_id for s in top}
    again = catalog.search("scary horror movie", 5, exclude=excluded)
    assert not excluded & {s.item.item_id for s in again}
    avoided = catalog.search("scary horror movie", 5, avoid_categories={"Horror"})
    assert all("Horror" not in s.item.categories for s in avoided)


def test_catalog_embeddings_are_cached_in_chroma(tmp_path, tiny_dataset, embedder):
    from mrrec_chat.memory.store import make_client

    client, lock = make_client(str(tmp_path / "s"))
    first = CatalogIndex(tiny_dataset, embedder, client)
    second = CatalogIndex(tiny_dataset, embedder, client)
    assert np.allclose(first.matrix, second.matrix)
    lock.release()
