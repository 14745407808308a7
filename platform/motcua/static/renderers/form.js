/* Shows and hides conditional form fields live. The page works without this file: every
   field is then shown and the server decides which answers count (motcua_renderers.form).
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

/* Address widgets: the commune list follows the chosen province. Without this script the
   "show the communes" button re-posts the page and the server draws the list
   (motcua_renderers.form.address_views); with it the list is fetched from the units API. */
(function () {
  "use strict";

  function communeSelect(field) {
    if (field.tagName === "SELECT") return field;
    var select = document.createElement("select");
    for (var i = 0; i < field.attributes.length; i++) {
      var a = field.attributes[i];
      if (["type", "value", "maxlength"].indexOf(a.name) === -1) select.setAttribute(a.name, a.value);
    }
    field.parentNode.replaceChild(select, field);
    return select;
  }

  function fill(province) {
    var field = document.getElementById(province.getAttribute("data-units-province"));
    if (!field) return;
    var code = province.value;
    if (!code) return;
    var url = province.getAttribute("data-communes-url").replace("{province}", encodeURIComponent(code));
    // The page's language, explicit in the URL: the list is cached per URL, not per reader.
    var lang = document.documentElement.getAttribute("lang") === "en" ? "en" : "vi";
    url += (url.indexOf("?") === -1 ? "?" : "&") + "lang=" + lang;
    fetch(url, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        var select = communeSelect(document.getElementById(field.id) || field);
        // the hint said "or type the name"; now there is only the list to choose from
        var hint = document.getElementById(select.id + "-hint");
        if (hint && select.getAttribute("data-list-hint")) hint.textContent = select.getAttribute("data-list-hint");
        var before = select.value;
        select.textContent = "";
        var prompt = document.createElement("option");
        prompt.value = "";
        prompt.textContent = data.prompt || "";
        select.appendChild(prompt);
        data.communes.forEach(function (c) {
          var option = document.createElement("option");
          option.value = c.code;
          option.textContent = c.name;
          if (c.code === before) option.selected = true;
          select.appendChild(option);
        });
      })
      .catch(function () { /* the button still works: the server draws the list */ });
  }

  function init() {
    var provinces = document.querySelectorAll("select[data-units-province]");
    for (var i = 0; i < provinces.length; i++) {
      var button = provinces[i].parentNode.querySelector(".units-choose");
      if (button && window.fetch) button.hidden = true;
    }
  }

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el && el.matches && el.matches("select[data-units-province]") && window.fetch) fill(el);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
