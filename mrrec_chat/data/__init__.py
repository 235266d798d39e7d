"""Dataset adapters: every source (MovieLens ml-100k / Latest CSV, generic JSONL) maps to one schema.

Import from here rather than from the submodules; the submodules are an implementation detail.
"""

from mrrec_chat.data.jsonl import DatasetError, JsonlLoadReport, load_jsonl_dataset, load_jsonl_dataset_with_report
from mrrec_chat.data.movielens import (
    TitleIndex,
    load_ml100k,
    load_ml100k_grouplens,
    load_ml100k_recbole,
    load_movielens_csv,
    natural_title,
    normalise_title,
    split_title_year,
)
from mrrec_chat.data.schema import Dataset, Interaction, Item

__all__ = [
    "Dataset",
    "DatasetError",
    "Interaction",
    "Item",
    "JsonlLoadReport",
    "TitleIndex",
    "load_jsonl_dataset",
    "load_jsonl_dataset_with_report",
    "load_ml100k",
    "load_ml100k_grouplens",
    "load_ml100k_recbole",
    "load_movielens_csv",
    "natural_title",
    "normalise_title",
    "split_title_year",
]
