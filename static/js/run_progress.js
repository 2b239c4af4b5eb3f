// Follows a background job (a MetricRun) on the page: polls its JSON status every second and moves
// the bar until the run is done or failed. A run already finished when the page loads (no broker:
// the job ran in-process) is shown as it is, without polling.
(() => {
  const FINISHED = new Set(["done", "failed"]);
  const INTERVAL_MS = 1000;

  function render(element, run) {
    const bar = element.querySelector(".progress-bar");
    const percent = run.status === "done" ? 100 : Math.max(0, Math.min(100, run.percent || 0));
    if (bar) {
      bar.style.width = `${percent}%`;
      bar.classList.toggle("is-success", run.status === "done");
      bar.classList.toggle("is-danger", run.status === "failed");
    }
    const progress = element.querySelector("[role='progressbar']");
    progress?.setAttribute("aria-valuenow", String(percent));
    const set = (selector, text) => {
      const target = element.querySelector(selector);
      if (target) {
        target.textContent = text;
      }
    };
    set("[data-run-percent]", `${percent}%`);
    set("[data-run-phase]", run.status === "done" ? "Done" : run.phase || run.status_label);
    const chip = element.querySelector("[data-run-status]");
    if (chip) {
      chip.textContent = run.status_label;
      chip.className = `chip chip-${run.status}`;
    }
    const done = element.querySelector("[data-run-done]");
    if (done) {
      done.hidden = run.status !== "done";
    }
    const error = element.querySelector("[data-run-error]");
    if (error) {
      error.hidden = run.status !== "failed";
      error.textContent = run.error || "The job failed.";
    }
    element.dataset.status = run.status;
  }

  function follow(element) {
    const url = element.dataset.runUrl;
    if (!url || FINISHED.has(element.dataset.status)) {
      return;
    }
    const poll = async () => {
      try {
        const response = await fetch(url, {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
        if (response.ok) {
          const run = await response.json();
          render(element, run);
          if (FINISHED.has(run.status)) {
            return;
          }
        }
      } catch {
        // A dropped request is retried on the next tick; the server keeps the truth.
      }
      window.setTimeout(poll, INTERVAL_MS);
    };
    window.setTimeout(poll, INTERVAL_MS);
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-run-url]").forEach(follow);
  });
})();
