"""Parse YAML text into MarkedDict / MarkedList (smdr.yamlfile), each error a located ConfigError.

libyaml's loader reads a file where PyYAML was built with it; a file it refuses is read again by the
pure-Python loader, so every error message comes from one loader. Only smdr.yamlfile calls this, for a
text smdr.yamlcache does not hold: PyYAML is not imported by a command that reads only known files.
"""

from __future__ import annotations

from typing import Any

import yaml

from . import yamlerrors
from .errors import ConfigError
from .yamlnodes import MarkedDict, MarkedList, short_repr, shorten


def load(text: str, path: str) -> Any:
    """The document (None for an empty one): through libyaml where it takes it, else the pure loader."""
    data = _fast_load(text, path)
    return _load(text, path) if data is None else data


class _Loader(yaml.SafeLoader):
    """The pure-Python loader: its errors carry the line and column that ``yamlerrors.explain`` needs."""


#: libyaml's loader, where PyYAML was built with it: the same nodes ~20x faster, for files that load.
#: A file it refuses is read again by ``_Loader``, so every error message comes from one loader.
_FastLoader: type | None = None
if getattr(yaml, "__with_libyaml__", False):
    class _CLoader(yaml.CSafeLoader):  # type: ignore[name-defined,misc]
        pass

    _FastLoader = _CLoader


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> MarkedDict:
    loader.flatten_mapping(node)
    result = MarkedDict()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise ConfigError(f"key {short_repr(key)} appears twice", path=loader.name,
                              line=key_node.start_mark.line + 1, key=str(key))
        result[key] = value = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
        written = _written(value_node, value)
        if written is not None:
            result.texts[key] = written
    return result


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> MarkedList:
    result = MarkedList()
    result.line = node.start_mark.line + 1
    for item in node.value:
        value = loader.construct_object(item, deep=True)
        result.append(value)
        result.item_lines.append(item.start_mark.line + 1)
        result.texts.append(_written(item, value))
    return result


def _written(node: yaml.Node, value: Any) -> str | None:
    """The characters of a plain scalar that YAML turned into something else than text (021 -> 17).

    A plain scalar's style is None from the pure loader and "" from libyaml's."""
    if isinstance(node, yaml.ScalarNode) and not node.style and value is not None \
            and not isinstance(value, str):
        return node.value
    return None


for _loader in (_Loader, _FastLoader):
    if _loader is not None:
        _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
        _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


#: what the pure loader's reader refuses (a control character): such text skips libyaml
_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE


def _fast_load(text: str, path: str) -> Any:
    """The document through libyaml; None when it is not installed, or for anything it refuses (then
    ``_load`` reads the file again and says what is wrong, where)."""
    if _FastLoader is None or _NON_PRINTABLE.search(text):  # the pure loader names the character and line
        return None
    loader = _FastLoader(text)
    loader.name = path
    try:
        node = loader.get_single_node()
        if node is None or yamlerrors.expanded_size(node) > yamlerrors.MAX_NODES:
            return None
        return loader.construct_document(node)
    except (yaml.YAMLError, ConfigError, RecursionError):
        return None
    finally:
        loader.dispose()


def _load(text: str, path: str) -> Any:
    """The document through the pure-Python loader, every error a located ConfigError."""
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:  # a control character: checked before anything is parsed
        raise ConfigError(f"a control character (code {exc.character}) that a settings file cannot hold; "
                          "retype that line", path=path, line=text.count("\n", 0, exc.position) + 1) from None
    loader.name = path
    try:
        node = loader.get_single_node()
        if node is not None and yamlerrors.expanded_size(node) > yamlerrors.MAX_NODES:
            raise ConfigError(f"the aliases (*name) expand to more than {yamlerrors.MAX_NODES} values; "
                              "a settings file never needs that many", path=path, line=1)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        explained = yamlerrors.explain(exc, text)
        raise ConfigError(explained.message, path=path, line=explained.line) from None
    except yaml.YAMLError as exc:  # a reader error: a character YAML does not allow
        raise ConfigError(f"not valid YAML: {shorten(str(exc))}", path=path) from None
    except RecursionError:
        raise ConfigError("nested too deeply to be a settings file", path=path) from None
    finally:
        loader.dispose()
    return data
