// Small behaviours for every page; no inline scripts (the CSP can forbid them later).
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-dismiss='alert']");
  if (button) {
    button.closest(".alert")?.remove();
  }
});
