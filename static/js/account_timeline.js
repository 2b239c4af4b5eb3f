// Draws the account timeline from the figure accounts/timeline.py builds (passed with json_script).
(() => {
  function draw() {
    const element = document.getElementById("timeline");
    const source = document.getElementById("timeline-data");
    if (!element || !source) {
      return;
    }
    if (!window.Plotly) {
      element.textContent = "The chart could not load; the activity list below has every touch.";
      return;
    }
    const { figure } = JSON.parse(source.textContent);
    window.Plotly.newPlot(element, figure.data, figure.layout, {
      responsive: true,
      displaylogo: false,
      modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"],
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
