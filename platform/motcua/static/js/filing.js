// The filing steps.
(function () {
  // Postal address only matters for postal delivery; without JS it simply stays visible.
  var box = document.getElementById('postal-address');
  var radios = document.querySelectorAll('[data-delivery-kind]');
  function sync() {
    if (!box) { return; }
    var postal = false;
    radios.forEach(function (r) { if (r.checked && r.value === 'postal') { postal = true; } });
    box.hidden = !postal;
  }
  radios.forEach(function (r) { r.addEventListener('change', sync); });
  if (box && radios.length) { sync(); }
  // One click files once: disable the button after the first submit.
  var form = document.querySelector('.filing-form');
  var fileButton = document.querySelector('[data-file-button]');
  if (form && fileButton) {
    form.addEventListener('submit', function () { setTimeout(function () { fileButton.disabled = true; }, 0); });
  }
})();
