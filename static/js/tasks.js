// My tasks: select tasks on this page for the bulk bar. The row checkboxes sit in the list (each
// task has its own complete/skip form, and forms cannot nest), tied to the bulk form by form="".
(() => {
  function setUp(form) {
    const all = form.querySelector("[data-select-all]");
    const count = form.querySelector("[data-selected-count]");
    const buttons = form.querySelectorAll("[data-bulk-action]");
    const format = new Intl.NumberFormat();
    // form.elements holds the checkboxes outside the form too; a task closed on its own
    // (htmx swaps its row) drops out of it.
    const rows = () => Array.from(form.elements).filter((el) => el.matches("[data-select-row]"));

    function refresh() {
      const boxes = rows();
      const selected = boxes.filter((box) => box.checked).length;
      for (const box of boxes) {
        box.closest(".task-item")?.classList.toggle("is-selected", box.checked);
      }
      all.checked = boxes.length > 0 && selected === boxes.length;
      all.indeterminate = selected > 0 && selected < boxes.length;
      all.disabled = boxes.length === 0;
      count.textContent = selected ? `${format.format(selected)} selected` : "None selected";
      for (const button of buttons) {
        button.disabled = selected === 0;
      }
      form.classList.toggle("has-selection", selected > 0);
    }

    all.addEventListener("change", () => {
      for (const box of rows()) {
        box.checked = all.checked;
      }
      refresh();
    });
    document.addEventListener("change", (event) => {
      if (event.target.matches?.("[data-select-row]")) {
        refresh();
      }
    });
    document.body.addEventListener("htmx:afterSwap", refresh);
    refresh();
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-task-bulk]").forEach(setUp);
  });
})();
