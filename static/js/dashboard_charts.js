// Draws every chart of a dashboard from the figure JSON the page carries (no inline script:
// each [data-chart] names the json_script element holding its figure). A click on a bar,
// point or funnel stage opens the records behind it: the point's customdata is their URL.
(() => {
  const CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] };

  function draw(element) {
    const source = document.getElementById(element.dataset.chart);
    if (!source || !window.Plotly) {
      return;
    }
    const figure = JSON.parse(source.textContent);
    window.Plotly.newPlot(element, figure.data, figure.layout, CONFIG).then(() => {
      element.on("plotly_click", (event) => {
        const url = event.points?.[0]?.customdata;
        if (typeof url === "string" && url.startsWith("/")) {
          window.location.assign(url);
        }
      });
      element.dataset.traces = String(figure.data.length);
    });
  }

  // Presets fill the dates; a custom period shows the month pickers.
  function wireFilters(form) {
    const preset = form.querySelector("[name=preset]");
    const custom = form.querySelectorAll("[data-custom-range]");
    const sync = () => custom.forEach((field) => { field.hidden = preset.value !== "custom"; });
    preset?.addEventListener("change", sync);
    sync();
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-chart]").forEach(draw);
    document.querySelectorAll("form[data-dashboard-filters]").forEach(wireFilters);
  });
})();
