"""Study files as YAML: read safely (UTF-8, a size cap, no anchors or aliases, no key given twice,
no implicit dates) and with the line of every key, for messages that point at the place."""

from __future__ import annotations

import typing
from pathlib import Path

import yaml

from sqresearch.io.errors import ParamsError, Problem

#: a study's params file is a page of settings; anything larger is refused before parsing
MAX_PARAMS_BYTES = 256 * 1024


class _NoDuplicateKeys:
    """A key given twice in one mapping is an error (YAML would silently keep the last)."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, typing.Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice in this mapping (first on line "
                    f"{seen[key]})", key_node.start_mark)
            if isinstance(key, typing.Hashable):
                seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)


#: YAML's implicit types without timestamps
_RESOLVERS = {k: [r for r in v if r[0] != "tag:yaml.org,2002:timestamp"]
              for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}


class YamlLoader(_NoDuplicateKeys, yaml.SafeLoader):
    """Safe YAML without implicit dates (papermill reads params the same way), so every date is
    checked by the schema and a bad one gets a clear message instead of a crash. Anchors and
    aliases are refused (an alias bomb expands a few lines into gigabytes), and so is a key
    given twice in one mapping (YAML would silently keep the last)."""

    yaml_implicit_resolvers = _RESOLVERS

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (& and *) are not allowed in study files",
                event.start_mark)
        return super().compose_node(parent, index)


class _FastLoader(_NoDuplicateKeys, yaml.CSafeLoader if yaml.__with_libyaml__ else
                  yaml.SafeLoader):
    """The same document through libyaml, for text holding no anchor or alias at all."""

    yaml_implicit_resolvers = _RESOLVERS


def read_yaml(text: str):
    """The document in ``text``."""
    return parse_yaml(text)[0]


def parse_yaml(text: str):
    """The document and its composed node (for line numbers), from one parse of ``text``:
    through libyaml when the text cannot hold an anchor or alias; any problem is worded by the
    pure-Python parser, which refuses anchors and aliases where they stand."""
    if "&" not in text and "*" not in text:
        try:
            return _parse(text, _FastLoader)
        except (yaml.YAMLError, RecursionError, ValueError):
            pass
    return _parse(text, YamlLoader)


def _parse(text: str, cls):
    loader = cls(text)
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    finally:
        loader.dispose()


def read_text(path: Path, source: str) -> str:
    """A params file's text: at most MAX_PARAMS_BYTES, UTF-8 (a byte-order mark is allowed);
    otherwise a ParamsError naming the line and column of the first bad byte."""
    size = path.stat().st_size
    if size > MAX_PARAMS_BYTES:
        raise ParamsError(source, Problem("file", f"is {size:,} bytes; a study file is at most "
                                          f"{MAX_PARAMS_BYTES:,}.", "keep data in data/ and "
                                          "only settings in params/."))
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[:exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise ParamsError(source, Problem(
            f"line {line}, column {column}", f"byte 0x{raw[exc.start]:02x} is not UTF-8 (the "
            "file was probably saved as Latin-1 or Windows-1252).",
            "save the file as UTF-8 (in most editors: Save as… → Encoding: UTF-8).")) from None


def _line_index(node) -> dict[tuple, int]:
    """Map each key path in a composed YAML document to its 1-based line number."""
    out: dict[tuple, int] = {}

    def walk(n, loc):
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                key = loc + (k.value,)
                out[key] = k.start_mark.line + 1
                walk(v, key)
        elif isinstance(n, yaml.SequenceNode):
            for i, v in enumerate(n.value):
                out[loc + (i,)] = v.start_mark.line + 1
                walk(v, loc + (i,))

    if node is not None:
        walk(node, ())
    return out
