// The import page: once the run that static/js/run_progress.js follows finishes, reload the page so
// the counts and rejected rows the server now knows are shown. A run finished at load is left alone.
(() => {
  const FINISHED = new Set(["done", "failed"]);

  document.addEventListener("DOMContentLoaded", () => {
    // The import run and the whole-file check of the mapping page both reload it when they finish.
    document.querySelectorAll("[data-reload-when-finished]").forEach((progress) => {
      if (FINISHED.has(progress.dataset.status)) {
        return;
      }
      const observer = new MutationObserver(() => {
        if (FINISHED.has(progress.dataset.status)) {
          observer.disconnect();
          window.location.reload();
        }
      });
      observer.observe(progress, { attributes: true, attributeFilter: ["data-status"] });
    });
  });
})();
