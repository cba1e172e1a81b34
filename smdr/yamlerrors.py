"""YAML syntax errors said in a technician's words, at the line the mistake is on.

PyYAML reports where its parser gave up ("expected <block end>, but found '<block mapping start>'"),
which is often a line or more after the mistake. ``explain`` looks at the text around that point for
the mistakes people make by hand (a tab, ``key:value`` without a space, a key indented to no column
above it, a quote or bracket never closed, a bare ``-`` as a value) and names that line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

#: ``name:office`` - a key, a colon and no space (``url: tcp://x`` has its space; ``tcp://x`` is no key).
_NO_SPACE = re.compile(r"^\s*(?:-\s+)?([A-Za-z_][\w.-]*):(?![\s/:]|$)(.*)$")
_TOKEN_START = re.compile(r"found character '(.+)' that cannot start any token")
#: the most nodes a document may expand to through its aliases (a real config has a few hundred)
MAX_NODES = 100_000


@dataclass(slots=True)
class Explained:
    message: str
    line: int


def explain(exc: yaml.MarkedYAMLError, text: str) -> Explained:
    """What went wrong and on which line (1-based), in plain words."""
    lines = text.splitlines()
    problem = exc.problem or str(exc)
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 1
    context_line = exc.context_mark.line + 1 if exc.context_mark else line

    if "'\\t'" in problem:
        return Explained("a tab character: indent with spaces only (YAML does not accept tabs)", line)
    token = _TOKEN_START.search(problem)
    if token:
        return Explained(f"a value cannot start with {token.group(1)}; put the value in quotes, "
                         f"e.g. key: \"{token.group(1)}...\"", line)
    if "quoted scalar" in (exc.context or ""):
        return Explained("a quote opened on this line is never closed; end the text with the same quote",
                         context_line)
    if "flow sequence" in (exc.context or "") or "flow mapping" in (exc.context or ""):
        closer = "]" if "sequence" in (exc.context or "") else "}"
        return Explained(f"the list opened with {'[' if closer == ']' else '{'} on this line is not closed with "
                         f"{closer}, or two of its items are missing the comma between them", context_line)
    no_space = _first_no_space(lines, context_line, line)
    if no_space is not None and ("could not find expected ':'" in problem
                                 or "mapping values are not allowed" in problem):
        number, key, value = no_space
        return Explained(f"write a space after the colon: '{key}: {value}' (without it YAML reads "
                         f"'{key}:{value}' as one word)", number)
    if "sequence entries are not allowed" in problem:
        return Explained("a '-' after 'key:' on the same line starts a list, which cannot go there; "
                         "for the text '-' write it in quotes: \"-\"", line)
    if "could not find expected ':'" in problem:
        return Explained("this line is not 'key: value'; every setting needs a colon and a space", context_line)
    if "mapping values are not allowed" in problem:
        previous = _previous_content(lines, line)
        if previous is not None and _indent(lines[line - 1]) > _indent(lines[previous - 1]):
            return Explained(f"this line is indented more than line {previous}, which already has a value; "
                             "line it up with the key above it", line)
        return Explained("a value holding ': ' must be written in quotes, e.g. key: \"a: b\"", line)
    if "expected <block end>" in problem or "expected <document start>" in problem:
        bad = _misaligned(lines, line)
        if bad is not None:
            return Explained("this line is indented to a column no key above it uses; keys of one section "
                             "line up exactly (same number of spaces)", bad)
        if "'?'" in problem or "<block mapping start>" in problem:
            return Explained("this key is not lined up with the keys of its section (in a list item, keys "
                             "line up under the first key after '- ')", line)
    return Explained(f"not valid YAML: {problem}", line)


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def _is_content(text: str) -> bool:
    stripped = text.strip()
    return bool(stripped) and not stripped.startswith("#")


def _previous_content(lines: list[str], line: int) -> int | None:
    for number in range(line - 1, 0, -1):
        if _is_content(lines[number - 1]):
            return number
    return None


def _first_no_space(lines: list[str], first: int, last: int) -> tuple[int, str, str] | None:
    """The first ``key:value`` line from a little before ``first`` to ``last``."""
    for number in range(max(1, min(first, last) - 1), min(len(lines), max(first, last)) + 1):
        text = lines[number - 1]
        if not _is_content(text) or text.lstrip().startswith(("'", '"')):
            continue
        match = _NO_SPACE.match(text.split(" #")[0])
        if match:
            return number, match.group(1), match.group(2).strip()
    return None


def _misaligned(lines: list[str], up_to: int) -> int | None:
    """The first line (up to ``up_to``) whose indentation closes to a column no open block has."""
    stack = [0]
    for number, text in enumerate(lines[:up_to], 1):
        if not _is_content(text) or text.lstrip().startswith(("'", '"')):
            continue
        indent = _indent(text)
        if indent > stack[-1]:
            stack.append(indent)
        else:
            while stack and stack[-1] > indent:
                stack.pop()
            if not stack or stack[-1] != indent:
                return number
        rest = text.lstrip(" ")
        while rest.startswith("- "):  # "- name: a": the item's keys start after the dash
            indent += 2 + len(rest[2:]) - len(rest[2:].lstrip(" "))
            rest = rest[2:].lstrip(" ")
            if rest:
                stack.append(indent)
    return None


def expanded_size(node: yaml.Node, limit: int = MAX_NODES) -> int:
    """How many nodes ``node`` stands for with every alias expanded, counting each shared node once per
    use (linear in the distinct nodes); stops counting past ``limit``."""
    sizes: dict[int, int] = {}

    def size(current: yaml.Node) -> int:
        known = sizes.get(id(current))
        if known is not None:
            return known
        sizes[id(current)] = 1  # a node that contains itself counts once
        total = 1
        if isinstance(current, yaml.SequenceNode):
            children = current.value
        elif isinstance(current, yaml.MappingNode):
            children = [part for pair in current.value for part in pair]
        else:
            children = []
        for child in children:
            total += size(child)
            if total > limit:
                break
        sizes[id(current)] = total
        return total

    return size(node)
