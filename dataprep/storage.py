"""Files on any Hadoop filesystem (local, hdfs://, s3a://, gs://) through the driver's JVM.

Only metadata and small JSON files go through here: listings, renames, markers.
Data itself is always read and written by Spark.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pyspark.sql import SparkSession

from dataprep.cli import UsageError

SUCCESS = "_SUCCESS"
STAGE_INFO = "_stage.json"


def local_path(path: str | Path) -> Path:
    """A local path given as a path or a file: URI; UsageError for any other filesystem."""
    text = str(path)
    scheme = urlparse(text).scheme
    if scheme == "file":
        return Path(urlparse(text).path)
    if scheme:
        raise UsageError(f"{text} is not on this machine's filesystem: give a local path")
    return Path(text)


class Storage:
    """Filesystem operations on paths of whatever scheme, resolved like Spark resolves them."""

    def __init__(self, spark: SparkSession) -> None:
        self._jvm = spark.sparkContext._jvm
        self._conf = spark.sparkContext._jsc.hadoopConfiguration()

    def _path(self, path: str) -> Any:
        return self._jvm.org.apache.hadoop.fs.Path(path)

    def _fs(self, path: str) -> Any:
        return self._path(path).getFileSystem(self._conf)

    def exists(self, path: str) -> bool:
        """Whether a file or folder exists."""
        return bool(self._fs(path).exists(self._path(path)))

    def delete(self, path: str) -> None:
        """Remove a file or a whole folder; nothing happens if it is absent."""
        self._fs(path).delete(self._path(path), True)

    def mkdirs(self, path: str) -> None:
        """Create a folder and its parents."""
        self._fs(path).mkdirs(self._path(path))

    def rename(self, source: str, target: str) -> None:
        """Move `source` to `target`, creating its parent; raises if the move fails."""
        self.mkdirs(self.parent(target))
        if not self._fs(source).rename(self._path(source), self._path(target)):
            raise OSError(f"could not rename {source} to {target}")

    def parent(self, path: str) -> str:
        """The folder holding `path`."""
        return str(self._path(path).getParent())

    def scratch(self, target: str) -> str:
        """An empty folder beside `target` to write it whole in, before renaming it there.

        One per target, not one per run: what a killed run left there goes with the next run.
        """
        path = self._path(target)
        folder = f"{path.getParent()}/_tmp-{path.getName()}"
        self.delete(folder)
        return folder

    def qualify(self, path: str) -> str:
        """The absolute URI of `path` (file:/..., hdfs://...)."""
        p = self._path(path)
        return str(p.getFileSystem(self._conf).makeQualified(p))

    def is_folder(self, path: str) -> bool:
        """Whether `path` names a folder (a glob pattern names none)."""
        if not self.exists(path):
            return False
        return bool(self._fs(path).getFileStatus(self._path(path)).isDirectory())

    def holds_anything(self, path: str) -> bool:
        """Whether `path` is a file, or a folder with anything in it."""
        if not self.exists(path):
            return False
        fs, hadoop_path = self._fs(path), self._path(path)
        if not fs.getFileStatus(hadoop_path).isDirectory():
            return True
        return len(fs.listStatus(hadoop_path)) > 0

    def list_folders(self, path: str) -> list[str]:
        """Names of the folders directly in a folder (none if it does not exist)."""
        if not self.exists(path):
            return []
        statuses = self._fs(path).listStatus(self._path(path))
        return sorted(str(s.getPath().getName()) for s in statuses if s.isDirectory())

    def glob_files(self, pattern: str) -> list[str]:
        """Data files matched by a path, folder (recursively) or glob, skipping _/. names."""
        return sorted(self.file_sizes(pattern))

    def file_sizes(self, pattern: str) -> dict[str, int]:
        """Bytes of each file `glob_files` finds, by its full URI."""
        return {
            str(status.getPath()): int(status.getLen()) for status in self._file_statuses(pattern)
        }

    def fingerprint(self, pattern: str) -> str:
        """A digest of the files' names, sizes and modification times: changes if they do."""
        lines = sorted(
            f"{status.getPath()} {status.getLen()} {status.getModificationTime()}"
            for status in self._file_statuses(pattern)
        )
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()

    def _file_statuses(self, pattern: str) -> list[Any]:
        found: list[Any] = []
        for status in self._fs(pattern).globStatus(self._path(pattern)) or []:
            self._collect_files(status, found)
        return found

    def _collect_files(self, status: Any, found: list[Any]) -> None:
        name = str(status.getPath().getName())
        if name.startswith(("_", ".")):
            return
        if status.isDirectory():
            for child in self._fs(str(status.getPath())).listStatus(status.getPath()):
                self._collect_files(child, found)
        else:
            found.append(status)

    def size_bytes(self, path: str) -> int:
        """Total bytes of the files under a path."""
        return int(self._fs(path).getContentSummary(self._path(path)).getLength())

    def write_bytes(self, path: str, data: bytes) -> None:
        """Write a small file, replacing any previous one."""
        stream = self._fs(path).create(self._path(path), True)
        try:
            stream.write(bytearray(data))
        finally:
            stream.close()

    def write_text(self, path: str, text: str) -> None:
        """Write a small UTF-8 text file, replacing any previous one."""
        self.write_bytes(path, text.encode("utf-8"))

    def read_text(self, path: str) -> str:
        """Read a small text file."""
        stream = self._fs(path).open(self._path(path))
        try:
            data = self._jvm.org.apache.commons.io.IOUtils.toByteArray(stream)
        finally:
            stream.close()
        return bytes(data).decode("utf-8")

    def write_json(self, path: str, value: Any) -> None:
        """Write a small JSON document."""
        self.write_text(path, json.dumps(value, indent=2, sort_keys=True) + "\n")

    def read_json(self, path: str) -> Any:
        """Read a small JSON document."""
        return json.loads(self.read_text(path))
