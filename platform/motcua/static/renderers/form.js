/* Shows and hides conditional form fields live. The page works without this file: every
   field is then shown and the server decides which answers count (motcua_renderers.form).
   A field carries data-show-when with its condition compiled to JSON Logic by the server
   (motcua.spec.conditions.for_browser: computed values inlined, the serving day and the
   channel written in), evaluated by the vendored json-logic-js (js/vendor/json-logic.js),
   the same specification the server evaluates with panzi-json-logic: no evaluator here. */
(function () {
  "use strict";

  /* Marks an input this script disabled because its field is hidden: a disabled input is
     not posted, so the server gets no answer the citizen could not see (it drops one
     anyway: motcua.submission.visible_answers); inputs the page itself disabled stay so. */
  var OFF = "data-hidden-off";

  /* The current value of a field, typed as the server parses it: a single checkbox and
     "true"/"false" choices are booleans, a number input a number, several checked boxes a
     list, nothing entered null. */
  function current(form, name) {
    var values = [];
    var inputs = form.querySelectorAll("[name]");
    var single = false;
    var numeric = false;
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      if (el.name !== name || el.hasAttribute(OFF)) continue;  // a hidden field has no answer
      if (el.type === "checkbox" && el.value === "true" && !el.closest(".choices-checkboxes")) {
        single = true;
        values.push(el.checked ? "true" : "false");
      } else if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) values.push(el.value);
        if (el.type === "checkbox") single = single || false;
      } else if (el.value.trim() !== "") {
        values.push(el.value.trim());
        numeric = el.type === "number";
      }
    }
    var many = form.querySelector('.choices-checkboxes [name="' + name.replace(/"/g, "") + '"]') !== null;
    var typed = values.map(function (v) {
      if (v === "true") return true;
      if (v === "false") return false;
      if (numeric && !isNaN(Number(v))) return Number(v);
      return v;
    });
    if (many) return typed;
    return typed.length ? typed[0] : null;
  }

  function put(data, path, value) {
    var parts = String(path).split(".");
    var node = data;
    for (var i = 0; i < parts.length - 1; i++) {
      if (typeof node[parts[i]] !== "object" || node[parts[i]] === null) node[parts[i]] = {};
      node = node[parts[i]];
    }
    node[parts[parts.length - 1]] = value;
  }

  /* A group's answer as the server reads it, built from the inputs named `<path>.<key>...`:
     a repeating group (numeric keys) is the list of its items (a count reads it,
     `{reduce: [{var: children}, ...]}`), an object (an item itself, `{var: item}` bound to
     `children.2`, or a group of fields) the object of its answers, without the empty ones,
     as the server keeps them; null when the form has no input under it. */
  function items(form, path) {
    var prefix = path + ".";
    var found = {};
    var numeric = true;
    var inputs = form.querySelectorAll("[name]");
    for (var i = 0; i < inputs.length; i++) {
      var name = inputs[i].name;
      if (name.indexOf(prefix) !== 0 || inputs[i].hasAttribute(OFF)) continue;
      var rest = name.slice(prefix.length);
      var key = rest.split(".")[0];
      if (!/^[0-9]+$/.test(key)) numeric = false;
      if (key in found) continue;  // built once, from all its inputs
      found[key] = rest === key ? current(form, name) : (items(form, prefix + key) || {});
    }
    var keys = Object.keys(found);
    if (!keys.length) return null;
    if (numeric) {
      return keys.map(Number).sort(function (a, b) { return a - b; }).map(function (k) { return found[k]; });
    }
    var object = {};
    keys.forEach(function (k) {
      var v = found[k];
      if (v !== null && !(typeof v === "object" && !Array.isArray(v) && !Object.keys(v).length)) object[k] = v;
    });
    return object;
  }

  /* The data a rule reads: each of its variables from the form, nested by dotted path. */
  function dataFor(form, logic) {
    var data = {};
    window.jsonLogic.uses_data(logic).forEach(function (path) {
      var value = current(form, path);
      if (value === null) value = items(form, String(path));
      put(data, path, value);
    });
    return data;
  }

  function holds(form, logic) {
    if (!window.jsonLogic) return true;
    return window.jsonLogic.truthy(window.jsonLogic.apply(logic, dataFor(form, logic)));
  }

  /* Hide each conditional field whose rule does not hold and disable its inputs (inside
     any hidden field); again until nothing changes, since a hidden field may be what another
     rule reads, as the server does. */
  function update() {
    for (var pass = 0; pass < 10; pass++) {
      var changed = false;
      var groups = document.querySelectorAll("[data-show-when]");
      for (var i = 0; i < groups.length; i++) {
        var el = groups[i];
        var form = el.closest("form") || document;
        var cond;
        try { cond = JSON.parse(el.getAttribute("data-show-when")); } catch (e) { continue; }
        var hide = !holds(form, cond);
        if (el.hidden !== hide) { el.hidden = hide; changed = true; }
      }
      var inputs = document.querySelectorAll("[data-show-when] [name]");
      for (var j = 0; j < inputs.length; j++) {
        var input = inputs[j];
        var off = input.closest("[data-show-when][hidden]") !== null;
        if (off && !input.disabled) {
          input.disabled = true;
          input.setAttribute(OFF, "");
          changed = true;
        } else if (!off && input.hasAttribute(OFF)) {
          input.disabled = false;
          input.removeAttribute(OFF);
          changed = true;
        }
      }
      if (!changed) return;
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
