"""The procedures a portal offers, loaded from a folder of spec files.

A spec that fails to load is left out and its findings kept, so one broken file never takes
the others down. Specs are also snapshotted into the store by `code@version` when a dossier
is filed, so a dossier is always read with the exact text it was filed under.

Linting a spec costs tens of milliseconds (YAML composed node by node for line numbers, the
whole linter), so a province's 2,000 specs would take minutes at every start and every test
would re-lint the same ten files. What a file lints to depends only on its bytes and on the
linter (its source and the registered steps), so results are kept by content hash: in this
process (`_LINTED`, shared by every app the process builds) and, given a cache folder, in a
file there (`spec_cache.json`, motcua.spec_cache) for the next start. A changed spec is
linted again; a changed linter or step set makes the whole file cache stale. The file is
JSON read back through the model's own validation, not a pickle: reading it never runs code
named in it, so a cache someone else wrote can at worst cost a full lint. What the start
and the catalogue's listing read of each spec is validated at start, the rest of a spec
when first used (motcua.spec_cache.LazySpec).

A version is identified by its content as well as its name: `content_hash` is the hash of
the spec as the model reads it. Once a dossier is filed under `code@version`, that pair is
pinned to that content; a spec file whose content changed without a new `version` is left
out of the catalogue with a finding at its `version` line (`check_pinned`), and filing
under it is refused (`snapshot`), so new dossiers never run old steps by accident and old
ones never change under their feet.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from motcua import spec_cache
from motcua.agencies import Agency, AgencyRegistry, load_registry, performers
from motcua.search import Index
from motcua.i18n import catalogue_path
from motcua.spec.lint import lint_file, step_classes
from motcua.spec.words import lint_lang, say
from motcua.spec.loader import Finding, read_spec
from motcua.spec.model import ProcedureSpec
from motcua.store.base import Store

log = logging.getLogger(__name__)

SPEC_SUFFIXES = (".yaml", ".yml", ".json")


def spec_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in SPEC_SUFFIXES and p.name != "schema.json")


#: What a file lints to: (spec or None when it is left out, findings), by (path, sha256).
Linted = spec_cache.Linted
CACHE_FILE = "spec_cache.json"
_LINTED: dict[tuple[str, str], Linted] = {}
#: Spec files' hashes by their stat, shared like `_LINTED` by every app of this process.
_HASHES = spec_cache.FileHashes()
MAX_LINTED = 5000
_LINTED_FINGERPRINT = ""


def _linter_fingerprint(steps: dict[str, type] | None) -> str:
    """Changes when what a spec lints to may change: the linter's and the model's source
    (every module of motcua.spec, the formats, the life events list) and the registered
    steps with the source of their modules (a step's config model is checked by the linter)."""
    import motcua.formats
    import motcua.spec

    digest = hashlib.sha256()
    spec_dir = Path(motcua.spec.__file__).parent
    files = sorted(spec_dir.glob("*.py")) + [Path(motcua.formats.__file__), spec_dir.parent / "data" / "life_events.yaml"]
    lang = lint_lang()  # findings are worded in it (motcua.spec.words), with its catalogue
    digest.update(f"lang={lang};".encode())
    if lang != "vi":
        files.append(catalogue_path(lang))
    for name, cls in sorted((steps or {}).items()):
        digest.update(f"{name}={cls.__module__}.{cls.__qualname__};".encode())
        source = getattr(sys.modules.get(cls.__module__), "__file__", None)
        if source:
            files.append(Path(source))
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.exists() else b"-")
    return digest.hexdigest()


def lint_all(files: list[Path], cache_dir: str | Path | None = None, agencies: AgencyRegistry | None = None) -> list[Linted]:
    """What each file lints to, linting only the files not seen before (by content hash).

    Who performs a spec is checked against `agencies`, so the registry's codes are part of
    the fingerprint: another registry lints every spec again. A file whose stat is unchanged
    since its hash was taken is not read again (motcua.spec_cache.FileHashes)."""
    global _LINTED_FINGERPRINT
    steps, _ = step_classes()
    fingerprint = _linter_fingerprint(steps) + (agencies.fingerprint() if agencies is not None else "-")
    if fingerprint != _LINTED_FINGERPRINT:
        _LINTED.clear()
        _LINTED_FINGERPRINT = fingerprint
    cache_path = Path(cache_dir) / CACHE_FILE if cache_dir is not None else None
    paths = [str(path.resolve()) for path in files]
    stats = [spec_cache.stat_of(path) for path in files]  # before hashing: a write after it changes the stat
    # a file written in the last seconds is hashed (its stat may not tell); another by its stat,
    # from this process's memory or else from the cache file's stats
    shas = [_HASHES.lookup(p, stat) if trusted else spec_cache.content_hash(path)
            for path, p, (stat, trusted) in zip(files, paths, stats)]

    def relint(key: spec_cache.Key) -> Callable[[], ProcedureSpec | None]:
        def again() -> ProcedureSpec | None:  # a cached spec that did not read back
            path = Path(key[0])
            if spec_cache.content_hash(path) != key[1]:
                return None
            loaded = lint_file(path, steps, load_steps=False, agencies=agencies)
            return loaded.spec if loaded.ok else None
        return again

    from_file = spec_cache.CacheFile({}, {})
    # all in memory (another app of this process linted them): the file is left as it is; read
    # for a spec this process does not hold, or a stat it has not seen (a new process)
    use_file = cache_path is not None and any(sha is None or (p, sha) not in _LINTED for p, sha in zip(paths, shas))
    if use_file:
        from_file = spec_cache.read(cache_path, fingerprint, relint)  # type: ignore[arg-type]
    keys: list[tuple[str, str]] = []
    for path, p, (stat, trusted), sha in zip(files, paths, stats, shas):
        if sha is None:
            sha = spec_cache.unchanged_hash(from_file.stats, p, stat)
        if sha is None:
            sha = spec_cache.content_hash(path)
        _HASHES.learn(p, stat, trusted, sha)
        keys.append((p, sha))
    if len(_LINTED) + len(keys) > MAX_LINTED:  # a long test run's folders: keep this one's only
        for key in set(_LINTED) - set(keys):
            del _LINTED[key]
    out: list[Linted] = []
    fresh = 0
    for path, key in zip(files, keys):
        linted = _LINTED.get(key) or from_file.linted.get(key)
        if linted is None:
            loaded = lint_file(path, steps, load_steps=False, agencies=agencies)  # the full linter
            linted = (loaded.spec if loaded.ok else None, loaded.findings)
            fresh += 1
        _LINTED[key] = linted
        out.append(linted)
    kept_stats = {p: stat for p, (stat, trusted) in zip(paths, stats) if trusted}
    if use_file and (fresh or set(from_file.linted) != set(keys) or kept_stats != {p: s for p, (s, _) in from_file.stats.items()}):
        spec_cache.write(cache_path, fingerprint, dict(zip(keys, out)), kept_stats)  # type: ignore[arg-type]
    if fresh:
        log.info("linted %d of %d spec files (the others unchanged since last linted)", fresh, len(files))
    return out


@contextmanager
def paused_collection() -> Iterator[None]:
    """The garbage collector paused while a catalogue loads: a province's specs are millions
    of objects, and each collection pass would walk all of those made so far (it took more
    time than unpickling them). `motcua serve` then freezes them out of later passes."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


class Catalogue:
    def __init__(self, specs: dict[str, ProcedureSpec], problems: list[Finding], paths: dict[str, Path] | None = None,
                 agencies: AgencyRegistry | None = None) -> None:
        self._specs = specs
        self.problems = problems
        self._sorted = sorted(specs.values(), key=lambda s: s.code)
        #: The offices of the deployment (the shipped registry when none is given).
        self.agencies = agencies if agencies is not None else load_registry()
        #: Who performs each spec, resolved once (by spec key: a pinned older version too).
        self._performers: dict[str, tuple[Agency, ...]] = {}
        self._by_code: dict[str, dict[str, Agency]] = {}
        #: The search index, built by the first search (`search_index`): a start builds two
        #: catalogues (the folder's, then with the studio's publications) and serves one.
        self._index: Index | None = None
        self._index_lock = threading.Lock()
        #: The file each served spec was read from, by procedure code.
        self.paths = paths or {}
        #: The folder's specs before the studio's publications were applied (`with_studio`).
        self.folder: dict[str, ProcedureSpec] = dict(specs)
        #: The studio generation this catalogue was built from (motcua.studio), and the codes
        #: whose served spec is a studio publication rather than the folder's file.
        self.generation = 0
        self.from_studio: frozenset[str] = frozenset()
        #: When a web process last compared `generation` with the store's (monotonic clock).
        self.checked = 0.0

    @classmethod
    def from_folder(cls, folder: str | Path, cache_dir: str | Path | None = None, agencies: AgencyRegistry | None = None) -> Catalogue:
        """The specs of `folder`, linted against `agencies` (default: the shipped registry);
        `cache_dir` (the data folder) keeps lint results for the next start."""
        with paused_collection():
            return cls._from_folder(folder, cache_dir, agencies if agencies is not None else load_registry())

    @classmethod
    def _from_folder(cls, folder: str | Path, cache_dir: str | Path | None, agencies: AgencyRegistry) -> Catalogue:
        specs: dict[str, ProcedureSpec] = {}
        paths: dict[str, Path] = {}
        problems: list[Finding] = []
        files = spec_files(Path(folder))
        for path, (spec, findings) in zip(files, lint_all(files, cache_dir, agencies)):
            problems.extend(findings)
            if spec is None:  # the linter found an error: the spec is left out
                log.error("spec left out: %s", "; ".join(str(f) for f in findings))
                continue
            if spec.code in specs:
                problems.append(Finding(str(path), 1, 1, "error", say("mã thủ tục {code} đã được dùng ở một đặc tả khác", code=spec.code)))
                log.error("spec left out: %s duplicates procedure code %s", path, spec.code)
                continue
            specs[spec.code] = spec
            paths[spec.code] = path
        return cls(specs, problems, paths, agencies)

    def check_pinned(self, store: Store) -> list[Finding]:
        """Leave out every spec whose `code@version` was filed under with other content.

        Returns (and keeps in `problems`) one error per spec left out, at its `version`."""
        refused: list[Finding] = []
        filed = dict(store.records("spec_versions").all())  # the versions filed under: few
        for code, spec in list(self._specs.items()):
            data = filed.get(spec.key)
            if data is None or _same_content(data, spec):
                continue
            del self._specs[code]
            self.folder.pop(code, None)
            path = self.paths.get(code)
            line, col = read_spec(path).source.value(("version",)) if path else (1, 1)
            finding = Finding(str(path or code), line, col, "error", changed_message(spec))
            log.error("spec left out: %s", finding)
            refused.append(finding)
        if refused:
            self._sorted = sorted(self._specs.values(), key=lambda s: s.code)
            self._index = None  # made again from the specs left
        self.problems.extend(refused)
        return refused

    def performers(self, spec: ProcedureSpec) -> tuple[Agency, ...]:
        """The offices that perform `spec` (motcua.agencies.performers), resolved once."""
        found = self._performers.get(spec.key)
        if found is None:
            found = self._performers[spec.key] = performers(spec, self.agencies)
        return found

    def performer(self, spec: ProcedureSpec, code: str | None) -> Agency | None:
        """The office `code` when it performs `spec`, else None."""
        if not code:
            return None
        by_code = self._by_code.get(spec.key)
        if by_code is None:
            by_code = self._by_code[spec.key] = {a.code: a for a in self.performers(spec)}
        return by_code.get(str(code).strip())

    def performers_name(self, spec: ProcedureSpec) -> dict[str, str]:
        """Who performs `spec`, as the procedure page says it: the kind of office the spec
        names ("Ủy ban nhân dân cấp xã"), else the office's name, else the offices' names."""
        rule = spec.performers_rule
        if rule.name:
            return dict(rule.name)
        offices = self.performers(spec)
        return {lang: "; ".join(a.name.get(lang) or a.name["vi"] for a in offices) for lang in ("vi", "en")}

    def office(self, code: str | None, spec: ProcedureSpec | None = None) -> Agency | None:
        """The office with this code: a performer of `spec` first (an old spec's own
        agency), else the registry's."""
        return (self.performer(spec, code) if spec is not None else None) or self.agencies.get(code)

    def tier(self, spec: ProcedureSpec) -> str:
        """The tier of the offices performing `spec` (the first one's when they differ)."""
        offices = self.performers(spec)
        return spec.performers_rule.tier or (offices[0].tier if offices else "")

    def with_studio(self, store: Store) -> Catalogue:
        """A new catalogue: this one's folder specs with the authoring studio's publications
        and retirements applied (motcua.studio: the latest publication wins). A new object,
        so what was kept per catalogue (motcua.web.page_cache) starts afresh."""
        from motcua import studio

        gen = studio.generation(store)
        specs, from_studio = studio.overlay(self.folder, store)
        paths = {code: path for code, path in self.paths.items() if code not in from_studio}  # retired ones too: the studio opens them
        fresh = Catalogue(specs, list(self.problems), paths, self.agencies)
        fresh.folder = self.folder
        fresh.generation = gen
        fresh.from_studio = frozenset(from_studio)
        return fresh

    def get(self, code: str) -> ProcedureSpec | None:
        return self._specs.get(code)

    def __iter__(self) -> Iterator[ProcedureSpec]:
        return iter(self._sorted)

    def __len__(self) -> int:
        return len(self._specs)

    def search_index(self) -> Index:
        """The full-text index of these procedures (motcua.search), built once, when first asked for."""
        index = self._index
        if index is None:
            with self._index_lock:  # the first requests may come together: one builds it
                if self._index is None:
                    with paused_collection():
                        self._index = Index(self._sorted, self.performers)
                index = self._index
        return index


def published_catalogue(folder: str | Path, store: Store, *, cache_dir: str | Path | None = None,
                        agencies: AgencyRegistry | None = None) -> Catalogue:
    """The catalogue the portal serves: the folder's specs, less those changed under a version
    already filed under, with the authoring studio's publications applied. One function, so
    the web app and the command line (`motcua stats` ...) count the same procedures."""
    catalogue = Catalogue.from_folder(folder, cache_dir=cache_dir, agencies=agencies)
    catalogue.check_pinned(store)  # a changed spec under a version already filed under is left out
    return catalogue.with_studio(store)  # the authoring studio's publications (motcua.studio)


class SpecChanged(ValueError):
    """A spec's content differs from what its `code@version` was filed under."""


def content_hash(spec: ProcedureSpec) -> str:
    """SHA-256 of the spec as the model reads it (key order, comments and quoting of the file
    do not count; a changed step, field, fee or text does)."""
    data = spec.model_dump(mode="json", by_alias=True)
    if not data.get("computed"):
        data.pop("computed", None)  # a spec without computed values keeps the hash it had before them
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def changed_message(spec: ProcedureSpec) -> str:
    return say(
        "thủ tục {code} phiên bản `{version}` đã được công bố với nội dung khác (đã có hồ sơ nộp theo phiên bản đó "
        "và giữ nguyên nội dung ấy); nội dung đặc tả này đã thay đổi nhưng `version` thì không: hãy tăng phiên bản "
        "(ví dụ `version: \"{next}\"`)", code=spec.code, version=spec.version, next=_next_version(spec.version))


def _next_version(version: str) -> str:
    head, _, last = version.rpartition(".")
    if last.isdigit():
        return f"{head}.{int(last) + 1}" if head else str(int(last) + 1)
    return version + ".1"


def pinned_hash(store: Store, key: str) -> str | None:
    """The content hash `code@version` was filed under, read through the current model (so a
    model that gained a defaulted key does not make every old snapshot look changed)."""
    data = store.records("spec_versions").get(key)
    return content_hash(ProcedureSpec.model_validate(data)) if data else None


#: Per store: what `snapshot` already checked (`code@version` -> the spec object and its hash)
#: and the specs `spec_of` already read. A snapshot is written once and never changes
#: (`insert_new`), so an answer stays true for that store; filing each dossier re-dumped,
#: compared and re-validated the whole spec (~1 ms a filing, issue 17).
_PINNED: "weakref.WeakKeyDictionary[Store, dict[str, tuple[ProcedureSpec, str]]]" = weakref.WeakKeyDictionary()
_FILED_UNDER: "weakref.WeakKeyDictionary[Store, dict[str, ProcedureSpec]]" = weakref.WeakKeyDictionary()


def snapshot(store: Store, spec: ProcedureSpec) -> str:
    """Keep the exact spec a dossier is filed under (idempotent); its content hash.

    Raises `SpecChanged` when `code@version` was filed under other content: the dossier
    would claim a version whose steps and fees it does not have."""
    known = _PINNED.setdefault(store, {})
    hit = known.get(spec.key)
    if hit is not None and hit[0] is spec:
        return hit[1]
    digest = _pinned_digest(store, spec)
    known[spec.key] = (spec, digest)
    return digest


def _pinned_digest(store: Store, spec: ProcedureSpec) -> str:
    digest = content_hash(spec)
    records = store.records("spec_versions")
    if not records.insert_new(spec.key, spec.model_dump(mode="json", by_alias=True)):
        pinned = records.get(spec.key)
        if pinned is not None and not _same_content(pinned, spec):
            raise SpecChanged(changed_message(spec))
    return digest


def _same_content(pinned: dict, spec: ProcedureSpec) -> bool:
    """Whether a snapshot holds this spec's content: equal as stored (the common case, no
    parsing), else equal once read through the current model."""
    return pinned == spec.model_dump(mode="json", by_alias=True) or content_hash(ProcedureSpec.model_validate(pinned)) == content_hash(spec)


def spec_of(store: Store, key: str) -> ProcedureSpec | None:
    """The spec a dossier was filed under, by `code@version` (read once per store: a
    snapshot never changes; callers never change the spec they are given)."""
    known = _FILED_UNDER.setdefault(store, {})
    spec = known.get(key)
    if spec is None:
        data = store.records("spec_versions").get(key)
        if not data:
            return None
        spec = known[key] = ProcedureSpec.model_validate(data)
    return spec
