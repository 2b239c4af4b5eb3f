// The tokens page: copy a new token to the clipboard (it is shown only once).
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy-from]");
  if (!button) {
    return;
  }
  const field = document.getElementById(button.dataset.copyFrom);
  field.select();
  try {
    await navigator.clipboard.writeText(field.value);
  } catch {
    document.execCommand("copy"); // pages served over plain http have no clipboard API
  }
  button.textContent = "Copied";
  button.setAttribute("aria-live", "polite");
});
