/* Set up the page for the Jupyter widget manager served from this site (_static/vendor/).
 *
 * Loaded after RequireJS and just before the widget manager, on pages with saved widget states
 * (_config.yml, nb_ipywidgets_js).
 *
 * 1. Where its files are. The manager (@jupyter-widgets/html-manager 1.x) finds its icon fonts
 *    next to the AMD module "@jupyter-widgets/html-manager/dist/libembed-amd", a path RequireJS
 *    would resolve against the page's own folder (404s). It is mapped to _static/vendor/.
 * 2. Equations in widget labels. The manager typesets labels with the MathJax 2 call
 *    `MathJax.Hub.Queue(["Typeset", MathJax.Hub, element])` whenever `window.MathJax` exists
 *    (jupyter-widgets/ipywidgets#3829). MathJax 3 has no `Hub`, so on a page with both
 *    equations and widgets that call throws and the widget is left half drawn. This gives
 *    MathJax 3 a `Hub.Queue` that typesets the element once MathJax is ready.
 */
(function () {
  "use strict";

  // 1. This file is served as _static/widget-manager-setup.js; the manager is in _static/vendor/.
  var here = document.currentScript.src;
  window.require.config({
    paths: {
      "@jupyter-widgets/html-manager/dist": new URL("vendor/html-manager", here).href,
    },
  });

  // 2. MathJax 2's Hub.Queue for MathJax 3.
  function typesetLater(mathjax, element) {
    if (!mathjax.startup || !mathjax.startup.promise || !mathjax.typesetPromise) {
      return; // MathJax 3 is not on this page: the labels stay plain text.
    }
    mathjax.startup.promise
      .then(function () { return mathjax.typesetPromise(element ? [element] : undefined); })
      .catch(function (error) { console.warn("MathJax could not typeset a widget label", error); });
  }

  function addHub() {
    var mathjax = window.MathJax;
    if (mathjax === undefined || mathjax.Hub !== undefined) {
      return;
    }
    mathjax.Hub = {
      Queue: function () {
        Array.prototype.forEach.call(arguments, function (job) {
          if (Array.isArray(job) && job[0] === "Typeset") {
            typesetLater(window.MathJax, job[2]);
          }
        });
      },
    };
  }

  // MathJax 3 is loaded with `defer` and replaces its configuration object with itself when it
  // runs, which is before DOMContentLoaded; widgets are drawn on the window's load event, after.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", addHub);
  } else {
    addHub();
  }
})();
