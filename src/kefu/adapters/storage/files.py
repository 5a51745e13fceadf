"""Evidence storage adapters: a local folder (default) and an in-memory fake for tests."""

from __future__ import annotations

import os
from pathlib import Path

from kefu.domain.errors import NotFound


def _missing(key: str) -> NotFound:
    return NotFound("file_not_found", "文件不存在。", "The file does not exist.", key=key)


class LocalFolderStorage:
    """Files under one folder; keys are relative paths made by the service (never user input)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"storage key escapes the folder: {key!r}")
        return path

    def save(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)          # a reader never sees half a file

    def load(self, key: str) -> bytes:
        path = self._path(key)
        if not path.is_file():
            raise _missing(key)
        return path.read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class MemoryStorage:
    """The fake: a dict."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def save(self, key: str, data: bytes) -> None:
        self.files[key] = data

    def load(self, key: str) -> bytes:
        if key not in self.files:
            raise _missing(key)
        return self.files[key]

    def delete(self, key: str) -> None:
        self.files.pop(key, None)
