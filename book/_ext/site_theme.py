"""Adjustments to sphinx-book-theme: launch buttons that work, and pages with no script errors.

- Launch buttons. The theme adds Binder, JupyterHub and Colab buttons to every notebook page, and
  for a MyST Markdown notebook (`book/NN-slug.md`) it also offers the executed notebook as an
  `.ipynb` download. Binder and JupyterHub open the `.md` file from the repository as a notebook
  (Jupytext and the settings in `.binder/` make JupyterLab do so), but Colab opens only `.ipynb`
  files from GitHub: its button on a Markdown page would lead to an error, so it is removed
  there. Readers of those pages download the `.ipynb` (the download button) and open it in Colab
  or Jupyter.
- JupyterHub. A class with its own hub gets a JupyterHub button (an nbgitpuller link that clones
  the repository into the reader's hub account) by setting `launch_buttons.jupyterhub_url` in
  `_config.yml`, or the environment variable `RNNCOURSE_JUPYTERHUB_URL` at build time.
- Thebe. With `launch_buttons.thebe: false` the site never runs code in the page, so
  sphinx-thebe's scripts (which declare their CDN address in an inline script, added twice by
  sphinx-thebe 0.3.1, a console error on every page) are left out.
"""

from __future__ import annotations

import os
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config

JUPYTERHUB_VARIABLE = "RNNCOURSE_JUPYTERHUB_URL"


def update_theme_options(app: Sphinx, config: Config) -> None:
    """Set the JupyterHub address when the environment gives one."""
    hub = os.environ.get(JUPYTERHUB_VARIABLE, "").strip()
    if hub:
        options = dict(config.html_theme_options)
        options["launch_buttons"] = {**(options.get("launch_buttons") or {}),
                                     "jupyterhub_url": hub}
        config.html_theme_options = options


def drop_colab_from_text_notebooks(app: Sphinx, pagename: str, templatename: str,
                                   context: dict[str, Any], doctree: Any) -> None:
    if context.get("page_source_suffix", "") == ".ipynb":
        return
    for button in context.get("header_buttons", []):
        if button.get("label") == "launch-buttons":
            button["buttons"] = [launch for launch in button["buttons"]
                                 if launch.get("text") != "Colab"]


def is_thebe_asset(asset: Any) -> bool:
    filename = str(getattr(asset, "filename", asset) or "")
    body = str(getattr(asset, "attributes", {}).get("body", ""))
    return "sphinx-thebe" in filename or "THEBE_JS_URL" in body


def drop_thebe_when_off(app: Sphinx, pagename: str, templatename: str,
                        context: dict[str, Any], doctree: Any) -> None:
    launch_buttons = app.config.html_theme_options.get("launch_buttons") or {}
    if launch_buttons.get("thebe"):
        return
    # The lists are the builder's own, shared by every page: replace them, never edit them.
    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [asset for asset in context[key] if not is_thebe_asset(asset)]


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", update_theme_options)
    # The theme adds its launch buttons at priority 501; these run after it.
    app.connect("html-page-context", drop_colab_from_text_notebooks, priority=510)
    app.connect("html-page-context", drop_thebe_when_off, priority=510)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
