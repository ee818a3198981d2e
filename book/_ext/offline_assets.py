"""Serve MathJax, RequireJS and the Jupyter widget manager from the built site, not from a CDN.

Sphinx and MyST-NB point the reader's browser at CDNs for the scripts that typeset equations
(MathJax) and render saved widget states (RequireJS and `@jupyter-widgets/html-manager`), so a
page read without a network shows raw TeX and no widgets. This extension fetches pinned releases
of those packages from the npm registry once (with `npm pack`, checking each tarball against the
pinned sha512), keeps them in the environment (`<sys.prefix>/share/rnncourse/web-assets/...`),
and adds them to the site's static files, under `_static/vendor/`, with the files in
`book/_ext/static/` (a small set-up script for the widget manager), under `_static/`.
`_config.yml` points `mathjax_path` and `nb_ipywidgets_js` there.

Later builds reuse the unpacked files, so only the first build of a fresh environment needs the
registry (and Node.js's `npm`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)
OWN_STATIC_FILES = Path(__file__).parent / "static"


@dataclass(frozen=True)
class VendoredPackage:
    """A pinned npm package and the files of it that the site serves.

    `keep` lists paths inside the package (files or folders, relative to its `package/` root);
    they land in `_static/vendor/<folder>/`, keeping their layout below `strip`.
    """

    spec: str
    integrity: str  # npm's dist.integrity: "sha512-" + base64(sha512(tarball))
    folder: str
    strip: str
    keep: tuple[str, ...]


PACKAGES = (
    # MathJax 3 (Sphinx 7's default major version): the TeX+MathML to CommonHTML bundle, and the
    # folders it loads fonts, TeX extensions, the menu and the accessibility tools from.
    VendoredPackage(
        spec="mathjax@3.2.2",
        integrity="sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
        folder="mathjax", strip="es5",
        keep=("es5/tex-mml-chtml.js", "es5/input", "es5/output", "es5/ui", "es5/a11y", "es5/sre",
              "es5/adaptors", "LICENSE", "package.json")),
    # The AMD module loader the widget manager needs.
    VendoredPackage(
        spec="requirejs@2.3.7",
        integrity="sha512-DouTG8T1WanGok6Qjg2SXuCMzszOo0eHeH9hDZ5Y4x8Je+9JB38HdTLT4/VA8OaUhBa0JPVHJ0pyBkM1z+pDsw==",
        folder="requirejs", strip="",
        keep=("require.js", "package.json")),
    # The widget manager for static pages (ipywidgets 8), with the built-in widget models and
    # the icon fonts its CSS refers to (found next to the script).
    VendoredPackage(
        spec="@jupyter-widgets/html-manager@1.0.15",
        integrity="sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
        folder="html-manager", strip="dist",
        keep=("dist/embed-amd.js", "dist/*.woff", "dist/*.woff2", "dist/*.ttf", "dist/*.eot",
              "dist/*.svg", "package.json")),
)


def packages_fingerprint(packages: tuple[VendoredPackage, ...] = PACKAGES) -> str:
    """A short hash of the pins: the name of the folder that holds their files."""
    description = json.dumps([package.__dict__ for package in packages], sort_keys=True)
    return hashlib.sha256(description.encode()).hexdigest()[:16]


def assets_home() -> Path:
    """Where unpacked assets live: inside the active environment, else the user's cache."""
    candidates = [Path(sys.prefix) / "share" / "rnncourse" / "web-assets",
                  Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                  / "rnncourse" / "web-assets"]
    for candidate in candidates:
        try:
            candidate.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(candidate, os.W_OK):
            return candidate
    raise ExtensionError(f"no writable folder for the site's web assets among {candidates}")


def tarball_integrity(tarball: Path) -> str:
    """npm's integrity string of a file: sha512 digest, base64-encoded."""
    return "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()


def fetch_tarball(package: VendoredPackage, into: Path) -> Path:
    """Download a package's tarball from the npm registry with `npm pack`; check its sha512."""
    npm = shutil.which("npm")
    if npm is None:
        raise ExtensionError(
            "The website serves MathJax and the Jupyter widget manager itself, fetched once from "
            "the npm registry, but `npm` (Node.js) was not found. Install Node.js and npm "
            "(e.g. `apt-get install -y nodejs npm`) and build again.")
    completed = subprocess.run(
        [npm, "pack", package.spec, "--json", "--pack-destination", str(into),
         "--no-fund", "--no-audit", "--loglevel=error"],
        cwd=into, capture_output=True, text=True)
    if completed.returncode != 0:
        raise ExtensionError(f"`npm pack {package.spec}` failed:\n{completed.stderr[-2000:]}")
    filename = json.loads(completed.stdout)[0]["filename"]
    tarball = into / filename
    found = tarball_integrity(tarball)
    if found != package.integrity:
        raise ExtensionError(
            f"{package.spec} from the registry has integrity {found}, "
            f"but {package.integrity} is pinned")
    return tarball


def unpack(package: VendoredPackage, tarball: Path, vendor: Path) -> None:
    """Extract the files in `package.keep` into `vendor/<package.folder>/`."""
    target = vendor / package.folder
    with tempfile.TemporaryDirectory() as scratch:
        with tarfile.open(tarball) as archive:
            archive.extractall(scratch, filter="data")
        root = Path(scratch) / "package"
        for pattern in package.keep:
            matches = sorted(root.glob(pattern))
            if not matches:
                raise ExtensionError(f"{package.spec} has no {pattern}")
            for source in matches:
                relative = source.relative_to(root)
                if package.strip and relative.parts[0] == package.strip:
                    relative = relative.relative_to(package.strip)
                destination = target / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                if source.is_dir():
                    shutil.copytree(source, destination, dirs_exist_ok=True)
                else:
                    shutil.copy2(source, destination)


def ensure_assets() -> Path:
    """The folder whose `vendor/` subfolder holds every pinned package; fetch them if missing.

    The folder is filled under a temporary name and renamed at the end, so a build that stops
    half-way, or two builds at once, never leave a partial folder behind.
    """
    home = assets_home()
    ready = home / packages_fingerprint()
    if (ready / "vendor").is_dir():
        return ready
    logger.info("fetching the site's MathJax and widget scripts from the npm registry")
    staging = Path(tempfile.mkdtemp(prefix="staging-", dir=home))
    try:
        downloads = staging / "downloads"
        downloads.mkdir()
        for package in PACKAGES:
            unpack(package, fetch_tarball(package, downloads), staging / "vendor")
        shutil.rmtree(downloads)
        try:
            staging.rename(ready)
        except OSError:  # another build finished first: use its copy
            if not (ready / "vendor").is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ready


def add_static_assets(app: Sphinx) -> None:
    """Put the vendored packages among the site's static files (served as `_static/vendor/`)."""
    if app.builder.format != "html":
        return
    for folder in (str(ensure_assets()), str(OWN_STATIC_FILES)):
        if folder not in app.config.html_static_path:
            app.config.html_static_path.append(folder)


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", add_static_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
