// The confirmation page: a button that copies the dossier code (hidden without the clipboard API).
(function () {
  var button = document.querySelector('[data-copy]');
  if (!button || !navigator.clipboard) { return; }
  button.hidden = false;
  button.addEventListener('click', function () {
    navigator.clipboard.writeText(document.querySelector(button.dataset.copy).textContent.trim());
  });
})();
