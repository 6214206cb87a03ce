"""tap-files: Excel / CSV drop folders (customer lists, finance credit ratings) as Singer streams.

Each configured stream reads the files matching a glob under ``folder`` and turns their rows
into records of a shape from ``shapes.yaml`` (Chinese or English headers -> the hub's field
names, types and checks), e.g. the finance ``credit_rating`` shape the REST finance connector
emits, so a ratings spreadsheet feeds the same unified model.
"""

from __future__ import annotations

import typing as t
from functools import cached_property
from pathlib import Path

from singer_sdk import Tap
from singer_sdk import typing as th

from connectors.kit.writer import BatchedOutput
from connectors.tap_files.shapes import load_shapes
from connectors.tap_files.streams import FolderStream, RejectWriter

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream


class FolderCheck:
    """``hub connectors check`` protocol (a ``token_cache_factory(config).get()``): the folder is
    there and readable."""

    def __init__(self, config: dict) -> None:
        self.config = config

    def get(self) -> None:
        """Raise ``FileNotFoundError`` / ``PermissionError`` with one clear line."""
        folder = Path(str(self.config.get("folder") or "")).expanduser()
        if not folder.is_dir():
            msg = f"tap-files: drop folder {folder} does not exist or is not a folder"
            raise FileNotFoundError(msg)
        try:
            next(folder.iterdir(), None)
        except PermissionError:
            msg = f"tap-files: drop folder {folder} is not readable"
            raise PermissionError(msg) from None


class TapFiles(BatchedOutput, Tap):
    """Spreadsheet drop-folder tap (incremental by file)."""

    name = "tap-files"
    #: What ``hub connectors check`` calls (the REST taps' token call; here the folder).
    token_cache_factory = FolderCheck

    config_jsonschema = th.PropertiesList(
        th.Property("folder", th.StringType, required=True, description="The drop folder."),
        th.Property(
            "streams",
            th.ArrayType(
                th.ObjectType(
                    th.Property("name", th.StringType, required=True, description="Stream name."),
                    th.Property("pattern", th.StringType, required=True,
                                description="Glob under the folder, e.g. ratings/*.xlsx or **/*.csv."),
                    th.Property("shape", th.StringType, description="Shape in the shapes file (default: name)."),
                    th.Property("sheet", th.StringType, description="Workbook sheet (default: the first)."),
                )
            ),
            required=True,
            description="Which files make which stream.",
        ),
        th.Property("shapes_file", th.StringType, description="A shapes YAML replacing the shipped one."),
    ).to_dict()

    @cached_property
    def rejects(self) -> RejectWriter:
        """One ``_rejects`` writer for every stream of this run."""
        return RejectWriter(self)

    def discover_streams(self) -> list[Stream]:
        shapes = load_shapes(self.config.get("shapes_file"))
        folder = Path(self.config["folder"]).expanduser()
        streams: list[Stream] = []
        for entry in self.config.get("streams") or []:
            shape_name = entry.get("shape") or entry["name"]
            if shape_name not in shapes:
                msg = f"tap-files: stream {entry['name']}: unknown shape {shape_name!r}; known: {', '.join(shapes)}"
                raise ValueError(msg)
            streams.append(FolderStream(self, entry["name"], folder, entry["pattern"], shapes[shape_name],
                                        entry.get("sheet")))
        return streams


if __name__ == "__main__":
    TapFiles.cli()
