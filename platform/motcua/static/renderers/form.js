/* Shows and hides conditional form fields live. The page works without this file: every
   field is then shown and the server decides which answers count (renderers.form).
   A field carries data-show-when with a condition in the spec's Condition shape:
   {"field": "has_father", "equals": true}, {"field": "x", "in": [...]}, "not_equals",
   "is_true", and the combinations {"all": [...]}, {"any": [...]}, {"not": {...}}. */
(function () {
  "use strict";

  function key(value) {
    if (value === true) return "true";
    if (value === false) return "false";
    if (value === null || value === undefined) return "";
    return String(value);
  }

  /* The current value(s) of a field as strings, the way the server would parse them. */
  function current(form, name) {
    var values = [];
    var inputs = form.querySelectorAll("[name]");
    var single = false;
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      if (el.name !== name) continue;
      if (el.type === "checkbox" && el.value === "true" && !el.closest(".choices-checkboxes")) {
        single = true;
        values.push(el.checked ? "true" : "false");
      } else if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) values.push(el.value);
      } else if (el.value.trim() !== "") {
        values.push(el.value.trim());
      }
    }
    return { values: values, single: single };
  }

  function holds(form, cond) {
    if (!cond || typeof cond !== "object") return true;
    if (cond.all) return cond.all.every(function (c) { return holds(form, c); });
    if (cond.any) return cond.any.some(function (c) { return holds(form, c); });
    if (cond.not) return !holds(form, cond.not);
    var got = current(form, cond.field).values;
    var present = got.length > 0;
    if ("equals" in cond) return present && got.indexOf(key(cond.equals)) !== -1;
    if ("not_equals" in cond) return !present || got.indexOf(key(cond.not_equals)) === -1;
    if ("in" in cond) return present && cond["in"].some(function (v) { return got.indexOf(key(v)) !== -1; });
    if ("is_true" in cond) {
      var truthy = present && got[0] !== "false" && got[0] !== "0";
      return truthy === Boolean(cond.is_true);
    }
    return true;
  }

  function update() {
    var groups = document.querySelectorAll("[data-show-when]");
    for (var i = 0; i < groups.length; i++) {
      var el = groups[i];
      var form = el.closest("form") || document;
      var cond;
      try { cond = JSON.parse(el.getAttribute("data-show-when")); } catch (e) { continue; }
      el.hidden = !holds(form, cond);
    }
  }

  document.addEventListener("change", update);
  document.addEventListener("input", update);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", update);
  } else {
    update();
  }
})();
