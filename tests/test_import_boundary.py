"""The library never imports Celery: stages stay usable without the fleet."""

from __future__ import annotations

import subprocess
import sys


def test_importing_generator_does_not_import_celery() -> None:
    code = (
        "import sys, pkgutil, importlib, generator\n"
        "for m in pkgutil.walk_packages(generator.__path__, 'generator.'):\n"
        "    if not m.name.endswith('__main__'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n == 'celery' or n.startswith('celery.'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
