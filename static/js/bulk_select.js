// Row selection for bulk actions: a select-all box, a live count, and "select all matching".
// Without JavaScript the form still works: tick rows, or choose "All N matching" in Apply to.
(() => {
  function setUp(form) {
    const all = form.querySelector("[data-select-all]");
    const rows = Array.from(form.querySelectorAll("[data-select-row]"));
    const count = form.querySelector("[data-selected-count]");
    const scope = form.querySelector("[data-bulk-scope]");
    const hint = form.querySelector("[data-select-matching]");
    const bar = form.querySelector("[data-bulk-bar]");
    const total = Number(form.dataset.total || rows.length);
    const format = new Intl.NumberFormat();

    function refresh() {
      const selected = rows.filter((box) => box.checked).length;
      const matching = scope && scope.value === "matching";
      for (const box of rows) {
        box.closest("tr")?.classList.toggle("is-selected", box.checked || matching);
      }
      if (all) {
        all.checked = rows.length > 0 && selected === rows.length;
        all.indeterminate = selected > 0 && selected < rows.length;
      }
      if (count) {
        count.textContent = matching
          ? `All ${format.format(total)} matching`
          : selected
            ? `${format.format(selected)} selected`
            : "None selected";
      }
      if (hint) {
        hint.hidden = matching || rows.length === 0 || selected !== rows.length;
      }
      bar?.classList.toggle("has-selection", matching || selected > 0);
    }

    all?.addEventListener("change", () => {
      for (const box of rows) {
        box.checked = all.checked;
      }
      if (!all.checked && scope) {
        scope.value = "selected";
      }
      refresh();
    });
    for (const box of rows) {
      box.addEventListener("change", () => {
        if (!box.checked && scope) {
          scope.value = "selected";
        }
        refresh();
      });
    }
    scope?.addEventListener("change", refresh);
    form.querySelector("[data-select-matching-button]")?.addEventListener("click", () => {
      scope.value = "matching";
      refresh();
    });
    refresh();
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-bulk-form]").forEach(setUp);
  });
})();
