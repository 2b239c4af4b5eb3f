// htmx set-up for playbook pages: the CSRF token on every request (hx-headers on <body>), a visible
// note when a request fails, and a confirmation for plain forms marked data-confirm.
(() => {
  const token = document.querySelector('meta[name="csrf-token"]')?.content;
  if (token) {
    document.body.setAttribute("hx-headers", JSON.stringify({ "X-CSRFToken": token }));
  }

  function showError(text) {
    const region = document.querySelector("[data-htmx-errors]");
    if (!region) {
      window.alert(text);
      return;
    }
    region.replaceChildren();
    const alert = document.createElement("div");
    alert.className = "alert alert-error";
    alert.setAttribute("role", "alert");
    const message = document.createElement("span");
    message.textContent = text;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "alert-close";
    close.dataset.dismiss = "alert";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    alert.append(message, close);
    region.append(alert);
  }

  document.body.addEventListener("htmx:responseError", (event) => {
    const status = event.detail.xhr.status;
    const reason =
      status === 403
        ? "you may not change this"
        : status === 404
          ? "it no longer exists, or is not yours"
          : `the server answered ${status}`;
    showError(`Not saved: ${reason}. Reload the page to see the current state.`);
  });
  document.body.addEventListener("htmx:sendError", () => {
    showError("Not saved: the server could not be reached. Check the connection and try again.");
  });
  document.body.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.successful) {
      document.querySelector("[data-htmx-errors]")?.replaceChildren();
    }
  });

  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
})();
