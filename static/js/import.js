// The import page: a file over the size limit is refused here, before a byte is sent. The server
// refuses it too, unread, but a browser still sending it may show a reset connection instead.
document.addEventListener("submit", (event) => {
  const input = event.target.querySelector("input[type=file][data-max-bytes]");
  const file = input && input.files[0];
  if (!file || file.size <= Number(input.dataset.maxBytes)) {
    return;
  }
  event.preventDefault();
  const megabytes = (file.size / 1024 / 1024).toFixed(1);
  const message =
    `The file is ${megabytes} MB; imports are limited to ${input.dataset.limit}. ` +
    "Split it into smaller files.";
  const field = input.closest(".form-field");
  field.classList.add("has-error");
  let list = field.querySelector(".field-error");
  if (!list) {
    list = document.createElement("ul");
    list.className = "field-error";
    list.id = `${input.id}_error`;
    field.append(list);
  }
  const item = document.createElement("li");
  item.textContent = message;
  list.replaceChildren(item);
  input.setAttribute("aria-describedby", list.id);
  input.focus();
});
