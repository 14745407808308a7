"""The package list of the `motcua` distribution; everything else is in pyproject.toml.

Three source folders install as three import packages, all named for the project so they
never collide with another distribution's top-level names:

- `platform/motcua` -> `motcua` (platform/ is a source root like src/: never give it an
  `__init__.py`, or it shadows Python's own `platform` module);
- `renderers/` -> `motcua_renderers`;
- `plugins/` -> `motcua_plugins`, less `plugins/simulators` (development stand-ins for tests
  and `motcua serve --demo` from a checkout: not in the wheel a province deploys).

pyproject.toml's `[tool.setuptools.packages.find]` cannot install a folder under another
name, hence this file; an editable install (`make .venv/.installed`) maps the same names to
the same folders, simulators included.
"""

from setuptools import find_namespace_packages, setup


def renamed(folder: str, name: str, exclude: tuple[str, ...] = ()) -> list[str]:
    """`folder`'s packages, named under `name` instead of `folder`."""
    found = find_namespace_packages(".", include=[folder, f"{folder}.*"], exclude=list(exclude))
    return [name + package[len(folder):] for package in found]


setup(
    packages=[
        *find_namespace_packages("platform", include=["motcua", "motcua.*"]),
        *renamed("renderers", "motcua_renderers"),
        *renamed("plugins", "motcua_plugins", exclude=("plugins.simulators", "plugins.simulators.*")),
    ],
    package_dir={"": "platform", "motcua_renderers": "renderers", "motcua_plugins": "plugins"},
)
