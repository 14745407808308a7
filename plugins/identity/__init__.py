"""Identity providers (`motcua.identity`): `demo`, the VNeID-like simulator of `serve --demo`."""
