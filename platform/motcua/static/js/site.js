// Every page: move focus to the error summary so screen readers announce it (role=alert too).
(function () {
  var summary = document.querySelector('[data-error-summary]');
  if (summary) { summary.focus(); }
})();
