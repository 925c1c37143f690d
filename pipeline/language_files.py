"""py3langid's model unpacked once into plain array files, for workers to map instead of holding in memory.

The model ships as one LZMA-compressed npz. Loaded the usual way, every worker decompresses it at start
and keeps ~75 MB of private arrays (with ~30 MB more for a moment while they are converted). Unpacked
into `.npy` files under the cache directory, the same arrays are mapped read-only: the process reads
only the pages the texts it sees touch, the kernel can drop them under pressure, and every worker on
the machine shares one copy (`pipeline.normalize.language.use_unpacked_model`).

The folder is named after py3langid's version and the model file's content (not its time: every fresh
install of the same release would unpack another copy), so an upgrade unpacks again; it is written under a
temporary name and renamed, so two workers starting together never map half a file.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import lzma
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import numpy as np

ARRAYS = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")


def model_file() -> Path:
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    return Path(MODEL_DIR) / str(MODEL_FILE)


def unpacked_model(cache_dir: Path, model: Path | None = None) -> Path:
    """The folder of the model's arrays as `.npy` files, unpacked now unless an earlier start did."""
    model = model or model_file()
    digest = hashlib.sha256(model.read_bytes()).hexdigest()[:16]  # 4.5 MB: a few ms, once per worker start
    folder = cache_dir / "langid" / f"{importlib.metadata.version('py3langid')}-{digest}"
    if _complete(folder):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{folder.name}.{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        _unpack(model, staging)
        try:
            staging.rename(folder)
        except OSError:
            if _complete(folder):  # another worker renamed its copy first: use that one
                return folder
            broken = folder.parent / f".{folder.name}.broken.{uuid.uuid4().hex}"  # files lost since: replaced
            folder.rename(broken)
            shutil.rmtree(broken, ignore_errors=True)
            staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _complete(folder: Path) -> bool:
    return all((folder / f"{name}.npy").is_file() for name in ARRAYS)


def _unpack(model: Path, target: Path) -> None:
    with tempfile.TemporaryFile(dir=target) as npz:  # decompressed by streaming, never whole in memory
        with lzma.open(model) as source:
            shutil.copyfileobj(source, npz, length=1 << 20)
        npz.seek(0)
        with np.load(npz, allow_pickle=False) as data:
            missing = set(ARRAYS).difference(data.files)
            if missing:
                raise ValueError(f"{model}: not the model layout this pipeline reads (missing {sorted(missing)})")
            for name in ARRAYS:
                with open(target / f"{name}.npy", "wb") as out:
                    np.save(out, data[name], allow_pickle=False)
                    out.flush()
                    os.fsync(out.fileno())
