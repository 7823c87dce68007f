"""Run every derivation and experiment, then write build/derivations/index.md and index.html.

    python derivations/build.py            # everything
    python derivations/build.py games xor  # a subset, by name

Each script runs in its own process (so one failure names its script and the others still
run); the exit status is 1 if any failed. Output goes to $SYMDYN_BUILD_DIR (default
build/derivations).
"""

from __future__ import annotations

import html
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _gallery as gallery  # noqa: E402


def scripts() -> list[Path]:
    """Every gallery script: derivations/*.py and derivations/experiments/*.py."""
    found = sorted(HERE.glob("*.py")) + sorted((HERE / "experiments").glob("*.py"))
    return [p for p in found if not p.name.startswith("_") and p.name != "build.py"]


def title_of(name: str, out: Path) -> str:
    md = out / f"{name}.md"
    if md.exists():
        first = md.read_text(encoding="utf-8").splitlines()[0]
        return first.removeprefix("## ").strip()
    return name


def write_index(names: list[str], kinds: dict[str, str], out: Path) -> None:
    rows_md, rows_html = [], []
    for name in names:
        files = [
            f"{name}.{ext}" for ext in ("pdf", "tex", "md") if (out / f"{name}.{ext}").exists()
        ]
        figures = sorted(p.name for p in out.glob(f"{name}*.png"))
        title = title_of(name, out)
        links = " · ".join(f"[{f.split('.')[-1]}]({f})" for f in files)
        pictures = " ".join(f"[![{f}]({f})]({f})" for f in figures)
        rows_md.append(f"### {title}\n\n{kinds[name]} `{name}`: {links}\n\n{pictures}\n")
        links_html = " · ".join(f'<a href="{f}">{f.split(".")[-1]}</a>' for f in files)
        pictures_html = "".join(
            f'<a href="{f}"><img src="{f}" alt="{f}" style="max-width:48%"></a>' for f in figures
        )
        rows_html.append(
            f"<h3>{html.escape(title)}</h3><p>{kinds[name]} <code>{name}</code>: {links_html}</p>"
            f"<p>{pictures_html}</p>"
        )
    (out / "index.md").write_text(
        "# symdyn gallery\n\nBuilt by `make derivations`.\n\n" + "\n".join(rows_md),
        encoding="utf-8",
    )
    (out / "index.html").write_text(
        '<!doctype html><html><head><meta charset="utf-8"><title>symdyn gallery</title></head>'
        "<body><h1>symdyn gallery</h1><p>Built by <code>make derivations</code>.</p>"
        + "".join(rows_html)
        + "</body></html>\n",
        encoding="utf-8",
    )


def main(argv: list[str]) -> int:
    out = gallery.build_dir()
    chosen = [p for p in scripts() if not argv or p.stem in argv]
    env = {**os.environ, "MPLBACKEND": "Agg", "SYMDYN_BUILD_DIR": str(out)}
    failed, kinds = [], {}
    for script in chosen:
        kinds[script.stem] = "experiment" if script.parent.name == "experiments" else "derivation"
        start = time.perf_counter()
        done = subprocess.run([sys.executable, str(script)], env=env, check=False)
        seconds = time.perf_counter() - start
        status = "ok" if done.returncode == 0 else "FAILED"
        print(f"{status:6} {script.relative_to(HERE.parent)} ({seconds:.1f} s)", flush=True)
        if done.returncode != 0:
            failed.append(script.stem)
    names = [p.stem for p in chosen if p.stem not in failed]
    write_index(names, kinds, out)
    print(f"wrote {out / 'index.md'} and index.html ({len(names)} entries)")
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
