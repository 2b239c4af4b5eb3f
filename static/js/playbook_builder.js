// Builder behaviours: insert a merge field at the cursor of the subject or body last focused in
// the same step form, then let the live preview re-render (it listens for input events).
(() => {
  let lastField = null;

  document.addEventListener("focusin", (event) => {
    const field = event.target.closest("[data-merge-target]");
    if (field) {
      lastField = field;
    }
  });

  // Keep the caret where it was: a mousedown on a chip would otherwise move focus first.
  document.addEventListener("mousedown", (event) => {
    if (event.target.closest("[data-merge-field]")) {
      event.preventDefault();
    }
  });

  document.addEventListener("click", (event) => {
    const chip = event.target.closest("[data-merge-field]");
    if (!chip) {
      return;
    }
    const form = chip.closest("form");
    const field =
      lastField && form.contains(lastField)
        ? lastField
        : form.querySelector("textarea[data-merge-target]");
    if (!field) {
      return;
    }
    const token = `{{ ${chip.dataset.mergeField} }}`;
    const start = field.selectionStart ?? field.value.length;
    const end = field.selectionEnd ?? start;
    field.setRangeText(token, start, end, "end");
    field.focus();
    field.dispatchEvent(new Event("input", { bubbles: true }));
  });
})();

// A field the server refused stops looking refused as soon as it is edited; saving checks again.
document.addEventListener("input", (event) => {
  const field = event.target.closest(".step-form .has-error");
  if (field) {
    field.classList.remove("has-error");
    field.querySelector(".field-error")?.replaceChildren();
    event.target.removeAttribute("aria-invalid");
  }
});

// Cancel on a new step's form: the step was never saved, so the form just goes away.
document.addEventListener("click", (event) => {
  const cancel = event.target.closest("[data-cancel-new-step]");
  if (!cancel) {
    return;
  }
  event.preventDefault();
  cancel.closest("tr")?.remove();
});
