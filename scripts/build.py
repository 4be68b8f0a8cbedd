"""`./dev build`: a wheel and an sdist of each package, and plugin definitions for Meltano.

Builds tap-ignite, target-ignite, target-duckdb-typed and ignite-sandbox with `uv build` into
dist/ (or --out-dir), then writes dist/tap-ignite.yml and dist/target-ignite.yml: the plugin
definitions of hub/ with pip_url set to the wheel just built, so a Meltano project anywhere on
this machine can add the plugins before they are on the package index:

    meltano add extractor tap-ignite --from-ref <dist>/tap-ignite.yml
    meltano add loader target-ignite --from-ref <dist>/target-ignite.yml
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from scripts.plugin_definitions import PLUGINS, ROOT, Plugin, render

PACKAGES = ("tap-ignite", "target-ignite", "target-duckdb-typed", "ignite-sandbox")


def find_uv() -> str:
    """uv from PATH, or where `pip install --user uv` puts it."""
    user_bin = Path(os.path.expanduser("~")) / ".local" / "bin"
    found = shutil.which("uv") or shutil.which("uv", path=str(user_bin))
    if found is None:
        sys.exit("uv not found: run ./dev build, which installs it")
    return found


def build(out_dir: Path) -> dict[str, Path]:
    """`uv build` of every package into an emptied out_dir; package name -> its wheel."""
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    subprocess.run(
        [find_uv(), "build", "--all-packages", "--out-dir", str(out_dir), "--quiet"],
        cwd=ROOT,
        check=True,
    )
    wheels = {}
    for package in PACKAGES:
        (wheel,) = out_dir.glob(f"{package.replace('-', '_')}-*.whl")
        (_sdist,) = out_dir.glob(f"{package.replace('-', '_')}-*.tar.gz")
        wheels[package] = wheel
    return wheels


def local_definition(plugin: Plugin, wheel: Path) -> str:
    """hub/'s definition of the plugin, installing from this wheel."""
    definition = yaml.safe_load(plugin.definition_path.read_text(encoding="utf-8"))
    definition["pip_url"] = str(wheel.resolve())
    return render(definition)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "dist")
    out_dir: Path = parser.parse_args(argv).out_dir.resolve()
    wheels = build(out_dir)
    for path in sorted(out_dir.iterdir()):
        print(f"built {path}")
    for plugin in PLUGINS:
        path = out_dir / f"{plugin.name}.yml"
        path.write_text(local_definition(plugin, wheels[plugin.name]), encoding="utf-8")
        print(f"wrote {path}")
    print("\nIn your Meltano project:")
    for plugin in PLUGINS:
        kind = plugin.plugin_type.removesuffix("s")
        print(f"  meltano add {kind} {plugin.name} --from-ref {out_dir / f'{plugin.name}.yml'}")


if __name__ == "__main__":
    main()
