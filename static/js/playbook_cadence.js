// Draws the cadence chart from the figure playbooks/cadence.py builds (passed with json_script).
(() => {
  function draw() {
    const element = document.getElementById("cadence");
    const source = document.getElementById("cadence-data");
    if (!element || !source) {
      return;
    }
    if (!window.Plotly) {
      element.textContent = "The chart could not load; the table below lists every stage.";
      return;
    }
    const figure = JSON.parse(source.textContent);
    window.Plotly.newPlot(element, figure.data, figure.layout, {
      responsive: true,
      displaylogo: false,
      displayModeBar: false,
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
