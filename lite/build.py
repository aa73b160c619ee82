"""Build the course as a JupyterLite site: every notebook runs in the browser (Pyodide), nothing to install.

    python lite/build.py                 # -> build/jupyterlite/ (serve it as static files)
    python lite/build.py --serve         # build, then serve it on a free loopback port
    python lite/build.py --rehash        # after editing a version in lite/requirements-pyodide.txt

Everything comes from the package registries and is pinned:

- the build tools (jupyterlite-core, jupyterlite-pyodide-kernel and their dependencies) from PyPI,
  by ``lite/requirements-build.txt``, into a virtual environment of their own under
  ``build/lite-cache/`` (never the course's environment);
- Pyodide 314.0.6 from npm (``npm pack``, checked against its sha512 below); the npm package is
  the interpreter only, with no wheels;
- every wheel the browser loads from PyPI, for Pyodide's platform, by ``lite/requirements-pyodide.txt``
  (``--no-deps --require-hashes``), plus a wheel of ``cors_lab`` made from this checkout;
- a ``pyodide-lock.json`` regenerated for exactly those wheels (dependencies read from each wheel,
  markers evaluated for emscripten), so ``import cors_lab`` loads what it needs and nothing is ever
  fetched from a CDN or PyPI at run time (``disablePyPIFallback``).

Downloads are cached in ``build/lite-cache/``: a warm build needs no network and takes a few
seconds. The output is reproducible: the same inputs give the same files (time stamps from
``SOURCE_DATE_EPOCH``, set to the last commit's time; a deterministic cors_lab wheel).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import tomllib
import zipfile
from email.parser import Parser
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LITE = ROOT / "lite"
NOTEBOOKS = ROOT / "notebooks"
CACHE = ROOT / "build" / "lite-cache"
WORK = ROOT / "build" / "lite-work"
OUTPUT = ROOT / "build" / "jupyterlite"

PYODIDE_VERSION = "314.0.6"
PYODIDE_INTEGRITY = "sha512-BKDTJyIqFxC4BExLqeRS3f5xvXZIjOt8C3zGLN/Cc7tFxSwvKVhVkchQQ2AGLOtR4YrVOIFxbV8poyDOOmWwxQ=="
# The files of the npm package the site needs (not the console pages, type stubs or source maps).
PYODIDE_FILES = ("pyodide.mjs", "pyodide.js", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "package.json")
PLATFORM = ["--python-version", "3.14", "--implementation", "cp", "--abi", "cp314", "--abi", "none",
            "--platform", "pyemscripten_2026_0_wasm32", "--platform", "any"]
# The environment markers of Pyodide 314 (for a wheel's Requires-Dist).
MARKER_ENV = {
    "sys_platform": "emscripten", "platform_system": "Emscripten", "os_name": "posix",
    "platform_machine": "wasm32", "python_version": "3.14", "python_full_version": "3.14.2",
    "implementation_name": "cpython", "platform_python_implementation": "CPython",
    "implementation_version": "3.14.2", "platform_release": "", "platform_version": "", "extra": "",
}
# Time stamps: the cors_lab wheel's are fixed; the site's files get the last commit's time
# (or this one outside a git checkout).
SOURCE_DATE_EPOCH = "1767225600"  # 2026-01-01T00:00:00Z
NOTEBOOK_FILES = ("*.ipynb", "*.md", "results/*.json")


def log(message: str) -> None:
    print(f"lite: {message}", flush=True)


def run(*args: str | Path, **kwargs) -> None:
    subprocess.run([str(a) for a in args], check=True, **kwargs)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- build tools

def build_venv() -> Path:
    """A virtual environment with the pinned build tools, one per version of requirements-build.txt."""
    requirements = LITE / "requirements-build.txt"
    key = hashlib.sha256(requirements.read_bytes()).hexdigest()[:12]
    venv = CACHE / f"venv-{key}"
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    if (venv / "ok").exists():
        return bindir
    for stale in CACHE.glob("venv-*"):
        shutil.rmtree(stale)
    log(f"installing the build tools into {venv.relative_to(ROOT)} (once)")
    run(sys.executable, "-m", "venv", venv)
    run(bindir / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", requirements)
    (venv / "ok").write_text(key)
    return bindir


# ---------------------------------------------------------------- Pyodide

def pyodide_dir() -> Path:
    """The npm package pyodide@PYODIDE_VERSION, checked and unpacked."""
    target = CACHE / f"pyodide-{PYODIDE_VERSION}"
    if (target / "pyodide.mjs").exists():
        return target
    tgz = CACHE / f"pyodide-{PYODIDE_VERSION}.tgz"
    if not tgz.exists():
        if shutil.which("npm") is None:
            sys.exit("lite: npm is needed once, to fetch Pyodide from the npm registry (install Node.js 20+)")
        log(f"fetching pyodide@{PYODIDE_VERSION} from npm (once)")
        CACHE.mkdir(parents=True, exist_ok=True)
        run("npm", "pack", f"pyodide@{PYODIDE_VERSION}", "--pack-destination", CACHE, "--silent", stdout=subprocess.DEVNULL)
    algorithm, _, expected = PYODIDE_INTEGRITY.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, tgz.read_bytes()).digest()).decode()
    if digest != expected:
        tgz.unlink()
        sys.exit(f"lite: {tgz.name} does not match its pinned {algorithm}; deleted it, run again")
    unpacked = CACHE / "pyodide-unpacked"
    shutil.rmtree(unpacked, ignore_errors=True)
    with tarfile.open(tgz) as archive:
        try:
            archive.extractall(unpacked, filter="data")
        except TypeError:  # Python 3.11.0-3.11.3: no extraction filters (the archive's hash is checked above)
            archive.extractall(unpacked)
    shutil.rmtree(target, ignore_errors=True)
    (unpacked / "package").rename(target)
    shutil.rmtree(unpacked)
    return target


# ---------------------------------------------------------------- wheels

def pinned_wheels() -> dict[str, tuple[str, str]]:
    """{name: (version, sha256)} from requirements-pyodide.txt."""
    text = (LITE / "requirements-pyodide.txt").read_text().replace("\\\n", " ")
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)\s+--hash=sha256:([0-9a-f]{64})$", line)
        if not match:
            sys.exit(f"lite: requirements-pyodide.txt: cannot read {line!r} (name==version --hash=sha256:...)")
        pins[canonical(match.group(1))] = (match.group(2), match.group(3))
    return pins


def wheel_files() -> list[Path]:
    """The pinned wheels, downloaded into the cache when one is missing, each checked against its hash."""
    pins = pinned_wheels()
    folder = CACHE / "wheels"
    folder.mkdir(parents=True, exist_ok=True)

    def found() -> dict[str, Path]:
        have = {}
        for wheel in folder.glob("*.whl"):
            name, version = wheel.name.split("-")[:2]
            pin = pins.get(canonical(name))
            if pin and pin[0] == version and sha256(wheel) == pin[1]:
                have[canonical(name)] = wheel
        return have

    have = found()
    if set(have) != set(pins):
        log(f"downloading {len(set(pins) - set(have))} wheel(s) for Pyodide from PyPI")
        run(build_venv() / "python", "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
            "--only-binary=:all:", *PLATFORM, "--require-hashes", "-r", LITE / "requirements-pyodide.txt", "-d", folder)
        have = found()
        missing = sorted(set(pins) - set(have))
        if missing:
            sys.exit(f"lite: wheels missing or not matching their hash after download: {', '.join(missing)}")
    return sorted(have.values())


def rehash() -> None:
    """Rewrite the hashes of requirements-pyodide.txt for the versions written there."""
    path = LITE / "requirements-pyodide.txt"
    text = path.read_text()
    names = re.findall(r"^([A-Za-z0-9_.-]+==\S+)", text, flags=re.M)
    folder = CACHE / "rehash"
    shutil.rmtree(folder, ignore_errors=True)
    run(build_venv() / "python", "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
        "--only-binary=:all:", *PLATFORM, "-d", folder, *names)
    hashes = {canonical(w.name.split("-")[0]): sha256(w) for w in folder.glob("*.whl")}

    def replace(match: re.Match[str]) -> str:
        return f"{match.group(1)} \\\n    --hash=sha256:{hashes[canonical(match.group(2))]}"

    text = re.sub(r"^(([A-Za-z0-9_.-]+)==\S+)(?: \\\n\s+--hash=sha256:[0-9a-f]{64})?", replace, text, flags=re.M)
    path.write_text(text)
    log(f"rewrote {len(hashes)} hashes in {path.relative_to(ROOT)}")


def cors_lab_wheel(folder: Path) -> Path:
    """A wheel of this checkout's cors_lab, byte for byte the same for the same sources."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    name, version = project["name"].replace("-", "_"), project["version"]
    dist_info = f"{name}-{version}.dist-info"
    metadata = [f"Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {version}",
                f"Summary: {project['description']}", f"Requires-Python: {project['requires-python']}"]
    metadata += [f"Requires-Dist: {dep}" for dep in project["dependencies"]]
    files: dict[str, bytes] = {}
    for path in sorted((ROOT / "cors_lab").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files[path.relative_to(ROOT).as_posix()] = path.read_bytes()
    files[f"{dist_info}/METADATA"] = ("\n".join(metadata) + "\n").encode()
    files[f"{dist_info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: lite/build.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{dist_info}/top_level.txt"] = b"cors_lab\n"
    record = [f"{n},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},{len(d)}" for n, d in files.items()]
    files[f"{dist_info}/RECORD"] = ("\n".join(record + [f"{dist_info}/RECORD,,"]) + "\n").encode()
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in files.items():
            info = zipfile.ZipInfo(member, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return wheel


def _wheel_metadata(wheel: Path) -> tuple[str, str, list[str], list[str]]:
    """(name, version, imports, Requires-Dist lines) of a wheel."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        message = Parser().parsestr(archive.read(f"{dist_info}/METADATA").decode())
        if f"{dist_info}/top_level.txt" in names:
            imports = [i for i in archive.read(f"{dist_info}/top_level.txt").decode().split() if i and not i.startswith("_")]
        else:
            imports = []
        if not imports:
            tops = set()
            for n in names:
                top = n.split("/")[0]
                if top.endswith((".dist-info", ".data")):
                    continue
                if "/" in n and n.split("/", 1)[1] == "__init__.py" or "/" not in n and top.endswith(".py"):
                    tops.add(top.removesuffix(".py"))
            imports = sorted(t for t in tops if not t.startswith("_")) or sorted(tops)
    return message["Name"], message["Version"], imports, message.get_all("Requires-Dist") or []


def write_lock(pyodide: Path, wheels: list[Path], target: Path) -> dict[str, dict]:
    """pyodide-lock.json for exactly these wheels (the npm package's lock names files only its CDN has)."""
    try:
        from packaging.requirements import Requirement
    except ImportError:  # pragma: no cover - pip always has a copy
        from pip._vendor.packaging.requirements import Requirement

    base = json.loads((pyodide / "pyodide-lock.json").read_text())
    packages: dict[str, dict] = {}
    requires: dict[str, list[str]] = {}
    for wheel in wheels:
        name, version, imports, requirements = _wheel_metadata(wheel)
        key = canonical(name)
        depends = []
        for line in requirements:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(MARKER_ENV):
                depends.append(canonical(requirement.name))
        requires[key] = depends
        packages[key] = {
            "name": key, "version": version, "file_name": wheel.name, "install_dir": "site",
            "sha256": sha256(wheel), "package_type": "package", "imports": imports,
            "depends": sorted(set(depends)), "unvendored_tests": False, "shared_library": False,
        }
    missing = sorted({f"{dep} (for {name})" for name, deps in requires.items() for dep in deps if dep not in packages})
    if missing:
        sys.exit(f"lite: lite/requirements-pyodide.txt lacks dependencies: {', '.join(missing)}")
    target.write_text(json.dumps({"info": base["info"], "packages": dict(sorted(packages.items()))}, indent=1, sort_keys=True) + "\n")
    return packages


# ---------------------------------------------------------------- the site

def stage(pyodide: Path, wheels: list[Path], epoch: str) -> tuple[Path, Path]:
    """The lite dir (settings, Pyodide and the wheels under static/pyodide) and the contents (the notebooks)."""
    shutil.rmtree(WORK, ignore_errors=True)
    static = WORK / "static" / "pyodide"
    static.mkdir(parents=True)
    for name in PYODIDE_FILES:
        shutil.copy2(pyodide / name, static / name)
    for wheel in wheels:
        shutil.copy2(wheel, static / wheel.name)
    own = cors_lab_wheel(static)
    packages = write_lock(pyodide, [*wheels, own], static / "pyodide-lock.json")
    shutil.copy2(LITE / "jupyter-lite.json", WORK / "jupyter-lite.json")
    shutil.copy2(LITE / "overrides.json", WORK / "overrides.json")
    contents = WORK / "contents"
    for pattern in NOTEBOOK_FILES:
        for path in sorted(NOTEBOOKS.rglob(pattern)):
            if ".ipynb_checkpoints" in path.parts:
                continue
            target = contents / path.relative_to(NOTEBOOKS)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            os.utime(target, (int(epoch), int(epoch)))  # the site shows each file's time: the same on every build
    log(f"staged Pyodide {PYODIDE_VERSION}, {len(packages)} wheels and {len(list(contents.rglob('*.ipynb')))} notebooks")
    return WORK, contents


def source_date_epoch() -> str:
    """The files' time stamp in the site: the last commit's time (the file browser shows it), else a fixed one."""
    try:
        done = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return SOURCE_DATE_EPOCH
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip().isdigit() else SOURCE_DATE_EPOCH


def inputs_digest() -> str:
    """One hash of everything the site is made from (the build is skipped when it has not changed)."""
    digest = hashlib.sha256(PYODIDE_INTEGRITY.encode())
    paths = [*sorted(LITE.glob("*.txt")), *sorted(LITE.glob("*.json")), LITE / "build.py", ROOT / "pyproject.toml",
             *sorted(p for p in (ROOT / "cors_lab").rglob("*") if p.is_file() and "__pycache__" not in p.parts),
             *sorted(p for pattern in NOTEBOOK_FILES for p in NOTEBOOKS.rglob(pattern) if ".ipynb_checkpoints" not in p.parts)]
    for path in paths:
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


STAMP = ".cors-lab-inputs"


def build(*, quiet: bool = True, force: bool = False) -> Path:
    started = time.perf_counter()
    digest = inputs_digest()
    if not force and (OUTPUT / STAMP).is_file() and (OUTPUT / STAMP).read_text() == digest:
        log(f"{OUTPUT.relative_to(ROOT)}/ is up to date (--force to build anyway)")
        return OUTPUT
    bindir = build_venv()
    pyodide = pyodide_dir()
    wheels = wheel_files()
    epoch = source_date_epoch()
    lite_dir, contents = stage(pyodide, wheels, epoch)
    shutil.rmtree(OUTPUT, ignore_errors=True)
    env = {**os.environ, "SOURCE_DATE_EPOCH": epoch, "PYTHONHASHSEED": "0"}
    jupyter = bindir / ("jupyter.exe" if os.name == "nt" else "jupyter")
    command = [jupyter, "lite", "build", "--lite-dir", lite_dir, "--contents", contents, "--output-dir", OUTPUT,
               "--no-sourcemaps", "--no-unused-shared-packages", "--force"]
    log("jupyter lite build")
    done = subprocess.run([str(c) for c in command], cwd=lite_dir, env=env, capture_output=quiet, text=True)
    if done.returncode != 0:
        sys.exit(f"lite: jupyter lite build failed:\n{done.stdout or ''}{done.stderr or ''}")
    for stray in (OUTPUT / ".jupyterlite.doit.db",):
        if stray.exists():
            stray.unlink()
    (OUTPUT / STAMP).write_text(digest)
    size = sum(p.stat().st_size for p in OUTPUT.rglob("*") if p.is_file())
    log(f"built {OUTPUT.relative_to(ROOT)}/ ({size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s")
    return OUTPUT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Handler(http.server.SimpleHTTPRequestHandler):
    # Python 3.11's mimetypes lacks .mjs; module scripts need a JavaScript type.
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".mjs": "text/javascript",
                      ".wasm": "application/wasm", ".whl": "application/zip"}

    def log_message(self, *args) -> None:
        pass


def serve(directory: Path, port: int = 0, host: str = "127.0.0.1") -> None:
    port = port or free_port()
    server = http.server.ThreadingHTTPServer((host, port), partial(_Handler, directory=str(directory)))
    shown = "<this machine's address>" if host in ("0.0.0.0", "::") else host
    print(f"lite: serving {directory} at http://{shown}:{port}/lab/index.html (Ctrl+C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve", action="store_true", help="serve the site after building it")
    parser.add_argument("--no-build", action="store_true", help="with --serve: serve what was built last")
    parser.add_argument("--port", type=int, default=0, help="port for --serve (default: a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address for --serve (0.0.0.0 for a room's network)")
    parser.add_argument("--rehash", action="store_true", help="rewrite the hashes in lite/requirements-pyodide.txt")
    parser.add_argument("--force", action="store_true", help="build even when nothing changed since the last build")
    parser.add_argument("--verbose", action="store_true", help="show jupyter lite's own output")
    args = parser.parse_args(argv)
    if args.rehash:
        rehash()
        return 0
    site = OUTPUT if args.no_build else build(quiet=not args.verbose, force=args.force)
    if args.serve:
        serve(site, args.port, args.host)
    return 0


if __name__ == "__main__":
    sys.exit(main())
