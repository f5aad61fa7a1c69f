// Delete buttons post to the note's delete URL without reloading the page.
document.addEventListener("click", function (event) {
  const button = event.target.closest("button.delete");
  if (!button) return;
  fetch(button.dataset.url, { method: "POST" }).then(function (response) {
    if (response.ok) button.closest("li").remove();
  });
});
