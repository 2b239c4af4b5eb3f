// The import page: once the run that static/js/run_progress.js follows finishes, reload the page so
// the counts and rejected rows the server now knows are shown. A run finished at load is left alone.
(() => {
  const FINISHED = new Set(["done", "failed"]);

  document.addEventListener("DOMContentLoaded", () => {
    const progress = document.querySelector("[data-reload-when-finished]");
    if (!progress || FINISHED.has(progress.dataset.status)) {
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
})();
