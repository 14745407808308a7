"""Where step classes come from: the `motcua.steps` entry-point group, built-ins included.

A third-party package adds a step by declaring, in its own pyproject.toml,
`[project.entry-points."motcua.steps"] my_step = "my_package:MyStep"`; nothing in this
repository changes (docs/plugins.md walks through it). Each step class also declares the
event kinds it records (`Step.events`: label and whether staff only), collected here for the
timeline (`motcua.workflow.events`), and may declare its title (`Step.title`), which names it
where its own events are credited.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from motcua.workflow.step import EventKind

log = logging.getLogger(__name__)

GROUP = "motcua.steps"  # motcua.integrations.STEPS.group


def step_registry() -> dict[str, type]:
    """Registered step name -> step class (`motcua.integrations.STEPS`, the registry every
    plugin kind shares). A plugin that fails to import, or is no `Step`, is logged and left out."""
    from motcua.integrations import STEPS

    return STEPS.all()


@lru_cache(maxsize=1)
def step_events() -> dict[str, "EventKind"]:
    """Event kind -> EventKind, as the registered steps declare them (`Step.events`).

    A declaration that does not validate is logged and left out (the kind then shows as an
    unknown one); a kind two steps declare keeps the first step's (by registered name).
    """
    from motcua.workflow.step import EventKind

    found: dict[str, EventKind] = {}
    owner: dict[str, str] = {}
    for name, cls in sorted(step_registry().items()):
        for kind, declared in (getattr(cls, "events", None) or {}).items():
            try:
                spec = declared if isinstance(declared, EventKind) else EventKind.model_validate(declared)
            except ValidationError as exc:
                log.warning("step %s declares event %r badly: %s", name, kind, exc.errors()[0]["msg"])
                continue
            if kind in found and found[kind] != spec:
                log.warning("steps %s and %s both declare the event %r; keeping %s's", owner[kind], name, kind, owner[kind])
                continue
            found.setdefault(kind, spec)
            owner.setdefault(kind, name)
    return found


@lru_cache(maxsize=1)
def step_titles() -> dict[str, dict[str, str]]:
    """Step name -> its title `{vi, en}`, for the steps that declare one (`Step.title`).

    A title that does not validate is logged and left out: the step is then shown by name."""
    from motcua.spec.model import LText

    check: TypeAdapter[dict[str, str]] = TypeAdapter(LText)
    found: dict[str, dict[str, str]] = {}
    for name, cls in sorted(step_registry().items()):
        declared = getattr(cls, "title", None)
        if not declared:
            continue
        try:
            found[name] = check.validate_python(declared)
        except ValidationError as exc:
            log.warning("step %s declares its title badly: %s", name, exc.errors()[0]["msg"])
    return found


def start_warnings(specs: Iterable[Any], app_config: Mapping[str, Any]) -> list[str]:
    """Every `Step.start_warnings` of the served specs, each once with the specs it concerns
    (`1.001193@2026.3, ...: <what is missing>`), for `create_app` to log."""
    found: dict[str, list[str]] = {}
    registry = step_registry()
    for spec in specs:
        for ref in spec.steps:
            cls = registry.get(ref.name)
            if cls is None:
                continue
            try:
                config = cls.Config.model_validate(ref.config)
            except ValidationError:
                continue  # the linter reported it
            for warning in cls.start_warnings(config, app_config):
                found.setdefault(warning, []).append(spec.key)
    out = [f"{_some(keys)}: {warning}" for warning, keys in found.items()]
    performers = getattr(specs, "performers", None)  # a Catalogue knows who performs each spec
    if performers is not None:
        refusals: dict[str, list[str]] = {}  # one line per reason, as above: 2,000 specs of the communes make one
        for spec in specs:
            refused = office_refusals(spec, performers(spec), app_config, "en")
            if refused:
                why = (f"{len(refused)} of the offices performing it cannot be served by post "
                       f"(no home pickup is offered there): {refused[0][1]}"
                       + (f" (also {', '.join(c for c, _ in refused[1:6])}{' ...' if len(refused) > 6 else ''})"
                          if len(refused) > 1 else ""))
                refusals.setdefault(why, []).append(spec.key)
        out += [f"{_some(keys)}: {why}" for why, keys in refusals.items()]
    return out


def _some(keys: list[str], shown: int = 10) -> str:
    """The first `shown` spec keys and how many more: a province's 2,000 procedures missing one
    setting make one readable log line, not a 40 kB one."""
    if len(keys) <= shown:
        return ", ".join(keys)
    return f"{', '.join(keys[:shown])} and {len(keys) - shown} more ({len(keys)} procedures)"


def office_refusals(spec: Any, offices: Iterable[Any], app_config: Mapping[str, Any] | None,
                    lang: str) -> list[tuple[str, str]]:
    """(code, why) for each of `offices` a step of `spec` cannot serve (`Step.office_refusal`)."""
    registry = step_registry()
    out: list[tuple[str, str]] = []
    steps = []
    for ref in spec.steps:
        cls = registry.get(ref.name)
        if cls is None:
            continue
        try:
            steps.append((cls, cls.Config.model_validate(ref.config)))
        except ValidationError:
            continue  # the linter reported it
    for office in offices:
        for cls, config in steps:
            why = cls.office_refusal(config, app_config, office, office.code, lang)
            if why:
                out.append((office.code, why))
                break
    return out


def post_refusal(spec: Any, office: Any, app_config: Mapping[str, Any], lang: str) -> str | None:
    """Why no parcel can be booked for a dossier filed with `office` — neither its papers
    collected at home nor its result sent by post (None: they can, or no office is chosen yet)."""
    if office is None:
        return None
    found = office_refusals(spec, (office,), app_config, lang)
    return found[0][1] if found else None


def reload() -> dict[str, type]:
    """Forget what was loaded (after installing a plugin in a running process, e.g. tests)."""
    from motcua.integrations import reload_all

    reload_all()
    step_events.cache_clear()
    step_titles.cache_clear()
    return step_registry()
