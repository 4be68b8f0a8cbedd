"""Peak RSS of a plugin process, as the process itself reports it at exit.

VmHWM is the peak of this process image; ru_maxrss is not: Linux carries it over from the
forking parent across exec, so under a grown pytest process it reported pytest's size.
"""

from __future__ import annotations


def peak_rss_script(cli: str, plugin_class: str) -> str:
    """A `python -c` program that runs `module:Class.cli()` as `cli` and prints its peak RSS.

    `plugin_class` is `module.path:ClassName`; atexit runs on sys.exit too.
    """
    module, name = plugin_class.split(":")
    return (
        "import atexit, sys\n"
        "def _peak():\n"
        "    with open('/proc/self/status') as status:\n"
        "        kb = next(line.split()[1] for line in status if line.startswith('VmHWM:'))\n"
        "    sys.stderr.write(f'PEAK_RSS_KB {kb}\\n')\n"
        "atexit.register(_peak)\n"
        f"from {module} import {name}\n"
        f"sys.argv = [{cli!r}, *sys.argv[1:]]\n"
        f"{name}.cli()\n"
    )


def peak_rss_mb(stderr: str) -> float:
    """The peak RSS, in MB, that a `peak_rss_script` program printed."""
    return int(stderr.rsplit("PEAK_RSS_KB ", 1)[1].split(maxsplit=1)[0]) / 1024
