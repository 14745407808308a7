"""Regular expressions that can take the server hostage (catastrophic backtracking, ReDoS).

Administrators write the `pattern`s of a form's fields; every citizen's answer is matched
against them with Python's backtracking `re`. A repetition whose body can match the same
text in more than one way — `(a+)+`, `(a*)*`, `(a|aa)+`, `([a-z]+ ?)+` — makes a wrong
answer of a few dozen characters cost minutes. This module finds those shapes in the
parsed expression (`re._parser`, the parser `re` itself uses), not by a regex over the
regex, and says where they are in the administrator's text.

The heuristic, for every repetition `B{m,n}` (n > 2) that can backtrack (not possessive,
not inside an atomic group):

- `B` can match the empty text (`(a*)*`, `(a?)+`): the engine tries every way of
  distributing nothing;
- the end of `B` can stretch over what a following `B` starts with (`(a+)+`,
  `(\\d+-?)+`, `(a|aa)+` which `re` reads as `a(|a)`): where one repetition stops and the
  next begins is ambiguous, so a failing text is split every possible way;
- a choice in `B` has alternatives that can match the same text (`(a|a)+`, `(ab|a.)+`);
- the start of `B` is optional and what it can match is also what `B` ends with
  (`(\\d?\\d)+`): the same ambiguity from the other side.

Single-character choices (`(a|b)+`, `[ab]+`) are sets to `re`, not alternatives, and are
safe; so are separators that pin each repetition (`(\\d+-)+`, `(-\\d+)+`). The check is a
heuristic: it can miss polynomial blow-ups such as `.*.*.*x` (the platform also bounds the
length of every answer before matching, motcua.submission.MAX_TEXT_CHARS).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

try:  # Python 3.11+
    from re import _constants as C  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

#: Code points examined exactly: Latin, Vietnamese (combining marks, Latin Extended
#: Additional), Greek, Cyrillic, punctuation ... Everything above is one symbol, HIGH.
SPAN = 0x3000
HIGH = -1
#: A bounded repetition up to this many times cannot blow up far (n**2 at most).
MAX_HARMLESS = 2

REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT)


@dataclass(frozen=True)
class Problem:
    """What is wrong, where (0-based index into the pattern, None if unknown), and the part."""

    kind: str  # "empty" | "overlap"
    position: int | None
    snippet: str


# --- character sets ------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _everything() -> frozenset[int]:
    return frozenset(range(SPAN)) | {HIGH}


@lru_cache(maxsize=None)
def _category(name: str) -> frozenset[int]:
    tests = {
        "CATEGORY_DIGIT": lambda ch: ch.isdecimal(),
        "CATEGORY_SPACE": lambda ch: ch.isspace(),
        "CATEGORY_WORD": lambda ch: ch.isalnum() or ch == "_" or unicodedata.category(ch) == "Mn",
        "CATEGORY_LINEBREAK": lambda ch: ch in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029",
    }
    negated = name.startswith("CATEGORY_NOT_")
    base = name.replace("CATEGORY_NOT_", "CATEGORY_")
    test = tests.get(base)
    if test is None:  # an unknown category: assume it may match anything
        return _everything()
    found = frozenset(c for c in range(SPAN) if test(chr(c)))
    return (_everything() - found) if negated else found | ({HIGH} if base in ("CATEGORY_WORD", "CATEGORY_DIGIT") else frozenset())


def _fold(chars: Iterable[int]) -> frozenset[int]:
    out = set()
    for c in chars:
        out.add(c)
        if c != HIGH:
            for other in (chr(c).lower(), chr(c).upper()):
                if len(other) == 1 and ord(other) < SPAN:
                    out.add(ord(other))
    return frozenset(out)


def _class(items: list[tuple[Any, Any]]) -> frozenset[int]:
    chars: set[int] = set()
    negate = False
    for op, av in items:
        if op is C.NEGATE:
            negate = True
        elif op is C.LITERAL:
            chars.add(av if av < SPAN else HIGH)
        elif op is C.RANGE:
            lo, hi = av
            chars.update(range(lo, min(hi, SPAN - 1) + 1))
            if hi >= SPAN:
                chars.add(HIGH)
        elif op is C.CATEGORY:
            chars |= _category(str(av))
        else:  # anything else inside a class: be safe, it may match anything
            chars |= _everything()
    return (_everything() - chars) if negate else frozenset(chars)


# --- the walk ------------------------------------------------------------------------------


class _Analysis:
    def __init__(self, parsed: Any) -> None:
        self.state = parsed.state
        self.ignorecase = bool(parsed.state.flags & re.IGNORECASE)
        self.found: list[str] = []

    def width(self, items: list[Any]) -> tuple[int, int]:
        return sre_parse.SubPattern(self.state, list(items)).getwidth()

    def nullable(self, items: list[Any]) -> bool:
        return self.width(items)[0] == 0

    def chars(self, chars: frozenset[int]) -> frozenset[int]:
        return _fold(chars) if self.ignorecase else chars

    def first(self, items: list[Any]) -> frozenset[int]:
        """Characters a non-empty match of `items` can start with."""
        out: set[int] = set()
        for item in items:
            out |= self.first_of(item)
            if not self.nullable([item]):
                break
        return frozenset(out)

    def last(self, items: list[Any]) -> frozenset[int]:
        out: set[int] = set()
        for item in reversed(items):
            out |= self.last_of(item)
            if not self.nullable([item]):
                break
        return frozenset(out)

    def _ends(self, item: Any, pick: Any) -> frozenset[int]:
        op, av = item
        if op is C.LITERAL:
            return self.chars(frozenset({av if av < SPAN else HIGH}))
        if op in (C.NOT_LITERAL, C.ANY):
            return _everything()
        if op is C.IN:
            return self.chars(_class(av))
        if op is C.SUBPATTERN:
            return pick(list(av[-1]))
        if op is C.ATOMIC_GROUP:
            return pick(list(av))
        if op is C.BRANCH:
            return frozenset().union(*(pick(list(alt)) for alt in av[1]))
        if op is C.GROUPREF_EXISTS:
            return frozenset().union(*(pick(list(alt)) for alt in av[1:] if alt is not None))
        if op in REPEATS or op is C.POSSESSIVE_REPEAT:
            return pick(list(av[2])) if av[1] > 0 else frozenset()
        if op is C.GROUPREF:
            return _everything()
        return frozenset()  # AT, ASSERT, ASSERT_NOT: zero-width

    def first_of(self, item: Any) -> frozenset[int]:
        return self._ends(item, self.first)

    def last_of(self, item: Any) -> frozenset[int]:
        return self._ends(item, self.last)

    def stretch(self, items: list[Any]) -> frozenset[int]:
        """What the end of a match of `items` could go on to swallow: first characters of
        variable-width parts reachable from the end through parts that may be empty."""
        out: set[int] = set()
        for item in reversed(items):
            op, av = item
            lo, hi = self.width([item])
            if op is C.SUBPATTERN:
                out |= self.stretch(list(av[-1]))
            elif op is C.BRANCH:
                if lo != hi:
                    out |= self.first_of(item)
                for alt in av[1]:
                    out |= self.stretch(list(alt))
            elif op in REPEATS:
                if lo != hi:
                    out |= self.first(list(av[2]))
                out |= self.stretch(list(av[2]))
            elif op is C.GROUPREF:
                out |= _everything()
            if lo != 0:
                break
        return frozenset(out)

    def optional_head(self, items: list[Any]) -> frozenset[int]:
        """First characters of the parts a match may skip at its start."""
        out: set[int] = set()
        for item in items:
            if not self.nullable([item]):
                if item[0] is C.SUBPATTERN:
                    out |= self.optional_head(list(item[1][-1]))
                break
            out |= self.first_of(item)
        return frozenset(out)

    def visit(self, items: Iterable[Any], atomic: bool = False) -> None:
        for op, av in items:
            if op in REPEATS:
                body = list(av[2])
                if not atomic and av[1] > MAX_HARMLESS:
                    kind = self.judge(body)
                    if kind:
                        self.found.append(kind)
                self.visit(body, atomic)
            elif op is C.POSSESSIVE_REPEAT:
                self.visit(av[2], True)
            elif op is C.ATOMIC_GROUP:
                self.visit(av, True)
            elif op is C.SUBPATTERN:
                self.visit(av[-1], atomic)
            elif op is C.BRANCH:
                for alt in av[1]:
                    self.visit(alt, atomic)
            elif op is C.GROUPREF_EXISTS:
                for alt in av[1:]:
                    if alt is not None:
                        self.visit(alt, atomic)
            elif op in (C.ASSERT, C.ASSERT_NOT):
                self.visit(av[1], atomic)

    def overlapping_choice(self, items: list[Any]) -> bool:
        """Whether a choice in `items` has two alternatives that can match the same start
        (`(a|a)`, which `re` reads as `a(|)`; `(\\d|[0-9])` is a set, not a choice)."""
        for op, av in items:
            if op is C.BRANCH:
                alts = [list(alt) for alt in av[1]]
                for i, one in enumerate(alts):
                    for other in alts[i + 1:]:
                        if (self.nullable(one) and self.nullable(other)) or self.first(one) & self.first(other):
                            return True
                if any(self.overlapping_choice(alt) for alt in alts):
                    return True
            elif op is C.SUBPATTERN and self.overlapping_choice(list(av[-1])):
                return True
        return False

    def judge(self, body: list[Any]) -> str | None:
        if self.nullable(body):
            return "empty"
        if self.stretch(body) & self.first(body) or self.optional_head(body) & self.last(body):
            return "overlap"
        if self.overlapping_choice(body):
            return "overlap"
        return None


def _kinds(pattern: str) -> list[str]:
    try:
        parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return []
    analysis = _Analysis(parsed)
    analysis.visit(parsed.data)
    return analysis.found


# --- where, in the administrator's text -----------------------------------------------------

_QUANTIFIER = re.compile(r"(?:[*+?]|\{[0-9]*(?:,[0-9]*)?\})[?+]?")  # `re` reads ASCII digits only in `{m,n}`


def _groups(pattern: str) -> list[tuple[int, int]]:
    """(start, end) of every parenthesised group followed by a quantifier, outermost first."""
    spans: list[tuple[int, int]] = []
    stack: list[int] = []
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
        elif ch == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "^":
                i += 1
            if pattern[i + 1:i + 2] == "]":
                i += 1
        elif ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            start = stack.pop()
            quantifier = _QUANTIFIER.match(pattern, i + 1)
            if quantifier:
                spans.append((start, quantifier.end()))
        i += 1
    return sorted(spans)


def _flags_prefix(pattern: str) -> str:
    global_flags = re.match(r"\(\?[aiLmsux]+\)", pattern)
    return global_flags.group(0) if global_flags else ""


@lru_cache(maxsize=1024)
def backtracking_problem(pattern: str) -> Problem | None:
    """The first repetition in `pattern` prone to catastrophic backtracking, or None."""
    kinds = _kinds(pattern)
    if not kinds:
        return None
    prefix = _flags_prefix(pattern)
    for start, end in _groups(pattern):
        part = pattern[start:end]
        if prefix and part.startswith(prefix):
            continue
        local = _kinds(prefix + re.sub(r"\\[1-9][0-9]*|\(\?P=\w+\)", "", part))
        if local:
            return Problem(local[0], start, part)
    return Problem(kinds[0], None, pattern)


def explain(problem: Problem) -> str:
    """One sentence an administrator can act on, in the lint language (motcua.spec.words)."""
    from motcua.spec.words import say

    where = say(" ở ký tự {n}", n=problem.position + 1) if problem.position is not None else ""
    if problem.kind == "empty":
        why = say("lặp lại một phần có thể không khớp ký tự nào")
    else:
        why = say("lặp lại một phần có thể khớp cùng một đoạn văn bản theo nhiều cách (phép lặp lồng trong phép lặp, "
                  "hoặc các lựa chọn chồng lấn nhau)")
    return say("phần `{snippet}`{where} {why}: một câu trả lời sai đủ dài sẽ khiến máy chủ thử mọi cách chia nó và treo "
               "nhiều phút (quay lui thảm họa). Hãy viết lại để mỗi ký tự chỉ khớp được một cách, ví dụ `[a-z]+` thay cho "
               "`([a-z]+)+`, `([0-9]+-)*[0-9]+` thay cho `([0-9]+-?)+`, và giới hạn độ dài bằng `maxLength`",
               snippet=problem.snippet, where=where, why=why)


def unbounded_repeats(pattern: str, flags: int = 0) -> list[str]:
    """The repetitions in `pattern` with no upper bound (`*`, `+`, `{n,}`), each as `re`
    parsed it (`MAX_REPEAT 0 MAXREPEAT ...`).

    An expression the platform itself searches over pasted text (motcua.spec.national_import)
    must have none: with every repetition bounded, the work at each position of the text is
    bounded, so a search is linear in the text's length. One unbounded gap between two words
    (`a.*?b`) scans to the end of the line from every `a` that has no `b` after it: quadratic,
    and no nested repetition for `backtracking_problem` to see."""
    found: list[str] = []

    def walk(items: Iterable[Any]) -> None:
        for op, av in items:
            if op in REPEATS or op is C.POSSESSIVE_REPEAT:
                if av[1] == C.MAXREPEAT:
                    found.append(f"{op} {av[0]} MAXREPEAT {list(av[2])}")
                walk(av[2])
            elif op is C.SUBPATTERN:
                walk(av[-1])
            elif op is C.ATOMIC_GROUP:
                walk(av)
            elif op is C.BRANCH:
                for alt in av[1]:
                    walk(alt)
            elif op is C.GROUPREF_EXISTS:
                for alt in av[1:]:
                    if alt is not None:
                        walk(alt)
            elif op in (C.ASSERT, C.ASSERT_NOT):
                walk(av[1])

    walk(sre_parse.parse(pattern, flags).data)
    return found
