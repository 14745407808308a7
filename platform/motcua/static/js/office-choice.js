// Choosing the office: a filter box over the plain select (diacritics and case ignored, so
// "hai chau" finds "Phường Hải Châu"), and the chosen office's address and hours shown as
// the choice changes. Without this script the select works as it is. docs/agencies.md
(function () {
  "use strict";
  function fold(text) {
    return (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[đĐ]/g, "d").toLowerCase().replace(/\s+/g, " ").trim();
  }
  function setup(box) {
    var select = box.querySelector("[data-office-select]");
    var filter = box.querySelector("[data-office-filter]");
    var input = box.querySelector("[data-office-filter-input]");
    var count = box.querySelector("[data-office-count]");
    var details = box.querySelector("[data-office-details]");
    if (!select || !filter || !input) { return; }
    var all = Array.prototype.slice.call(select.options).filter(function (o) { return o.value; });
    var folded = all.map(function (o) { return fold(o.textContent + " " + o.value); });
    filter.hidden = false;
    function show() {
      var option = select.options[select.selectedIndex];
      if (!details) { return; }
      if (!option || !option.value) { details.hidden = true; return; }
      details.hidden = false;
      details.querySelector("[data-office-address]").textContent = option.getAttribute("data-address") || "";
      // the hours most offices share are on the select, an office's own on its option
      var hours = option.hasAttribute("data-hours") ? option.getAttribute("data-hours") : select.getAttribute("data-hours");
      details.querySelector("[data-office-hours]").textContent = hours || "";
      var phone = option.getAttribute("data-phone") || "";
      var phoneBox = details.querySelector("[data-office-phone]");
      var phoneLabel = details.querySelector("[data-office-phone-label]");
      phoneBox.textContent = phone;
      phoneBox.hidden = !phone;
      phoneLabel.hidden = !phone;
    }
    function narrow() {
      var words = fold(input.value).split(" ").filter(Boolean);
      var shown = [];
      all.forEach(function (option, i) {
        var match = words.every(function (w) { return folded[i].indexOf(w) !== -1; });
        // removed rather than hidden: a hidden <option> still shows in some browsers' lists
        if (match) { shown.push(option); }
      });
      var current = select.value;
      while (select.options.length > 1) { select.remove(1); }
      shown.forEach(function (option) { select.add(option); });
      if (shown.length === 1) {
        select.value = shown[0].value;
      } else if (shown.some(function (o) { return o.value === current; })) {
        select.value = current;
      } else {
        select.value = "";
      }
      if (count) { count.textContent = (count.getAttribute("data-template") || "{n}").replace("{n}", String(shown.length)); }
      show();
    }
    input.addEventListener("input", narrow);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); select.focus(); }  // never submit the form from the filter
    });
    select.addEventListener("change", show);
  }
  document.querySelectorAll("[data-office-choice]").forEach(setup);
}());
