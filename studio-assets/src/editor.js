// The authoring studio's editor (/staff/soan-thao/<code>): CodeMirror 6 over the spec's
// textarea, with YAML highlighting, completion of keys and values from the spec JSON Schema
// (`motcua schema`), the linter's findings inline as the author types, and the live
// preview (both come from one POST to the preview URL, CSRF token in X-CSRFToken).
// Built into platform/motcua/static/studio/editor.js by `make studio-assets`.
import { EditorView, basicSetup } from "codemirror";
import { EditorState } from "@codemirror/state";
import { yaml } from "@codemirror/lang-yaml";
import { linter, lintGutter, setDiagnostics } from "@codemirror/lint";
import { autocompletion } from "@codemirror/autocomplete";

const root = document.getElementById("studio");
const textarea = document.getElementById("spec-text");
const answersBox = document.getElementById("sample-answers");
const answersError = document.getElementById("answers-error");
const lintList = document.getElementById("lint-list");

function post(url, body) {
  return fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": root.dataset.csrf },
    body: JSON.stringify(body),
  }).then((r) => (r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status))));
}

// --- completion from the JSON Schema ------------------------------------------------------
let schemaRoot = null;
fetch(root.dataset.schemaUrl, { credentials: "same-origin" })
  .then((r) => r.json())
  .then((s) => { schemaRoot = s; })
  .catch(() => {});

function deref(node, depth = 0) {
  if (!node || depth > 20) return node;
  if (node.$ref && node.$ref.startsWith("#/$defs/")) {
    const target = schemaRoot.$defs[node.$ref.slice(8)];
    return deref(Object.assign({}, target, node, { $ref: undefined }), depth + 1);
  }
  return node;
}

function alternatives(node, depth = 0) {
  node = deref(node);
  if (!node || depth > 10) return [];
  const out = [node];
  for (const k of ["anyOf", "oneOf", "allOf"]) {
    for (const sub of node[k] || []) out.push(...alternatives(sub, depth + 1));
  }
  return out;
}

function child(node, seg) {
  const next = [];
  for (const alt of alternatives(node)) {
    if (seg === "[]") {
      if (alt.items && typeof alt.items === "object") next.push(alt.items);
    } else if (alt.properties && alt.properties[seg]) {
      next.push(alt.properties[seg]);
    } else if (alt.additionalProperties && typeof alt.additionalProperties === "object") {
      next.push(alt.additionalProperties);
    }
  }
  return next.length ? { anyOf: next } : null;
}

function resolve(path) {
  let node = schemaRoot;
  for (const seg of path) {
    node = child(node, seg);
    if (!node) return null;
  }
  return node;
}

const indentOf = (line) => line.length - line.trimStart().length;

// The mapping path of a key written at `keyIndent` on line `lineNo` (block YAML only).
function pathAt(doc, lineNo, keyIndent) {
  const path = [];
  let cur = keyIndent;
  let inItem = false;
  for (let n = lineNo - 1; n >= 1 && cur > 0; n--) {
    const text = doc.line(n).text;
    const trimmed = text.trim();
    if (!trimmed || trimmed.startsWith("#")) continue;
    const ind = indentOf(text);
    const dash = trimmed.startsWith("- ") || trimmed === "-";
    if (dash && ind < cur) {
      path.push("[]");
      cur = ind;
      inItem = true;
      continue;
    }
    const m = /^([\w$.-]+)\s*:\s*(#.*)?$/.exec(trimmed) || /^-\s+([\w$.-]+)\s*:\s*(#.*)?$/.exec(trimmed);
    if (!m) continue;
    if (ind < cur || (inItem && ind === cur && !dash)) {
      path.push(m[1]);
      cur = dash ? ind : ind;
      inItem = false;
    }
  }
  return path.reverse();
}

function describe(node) {
  const alts = alternatives(node);
  const types = new Set();
  let description = "";
  for (const a of alts) {
    if (a.type) [].concat(a.type).forEach((t) => types.add(t));
    if (!description && a.description) description = a.description;
  }
  return { detail: [...types].join(" | "), info: description || undefined };
}

function schemaCompletion(context) {
  if (!schemaRoot) return null;
  const line = context.state.doc.lineAt(context.pos);
  const before = line.text.slice(0, context.pos - line.from);
  let m = /^(\s*)(-\s+)?([\w$.-]*)$/.exec(before);
  if (m) {
    const keyIndent = m[1].length + (m[2] ? m[2].length : 0);
    const path = pathAt(context.state.doc, line.number, keyIndent);
    if (m[2]) path.push("[]");
    const node = resolve(path);
    if (!node) return null;
    const options = [];
    const seen = new Set();
    for (const alt of alternatives(node)) {
      for (const [name, sub] of Object.entries(alt.properties || {})) {
        if (seen.has(name)) continue;
        seen.add(name);
        options.push({ label: name, type: "property", apply: name + ": ", ...describe(sub) });
      }
    }
    if (!options.length) return null;
    return { from: context.pos - m[3].length, options, validFor: /^[\w$.-]*$/ };
  }
  m = /^(\s*)(-\s+)?([\w$.-]+):\s+([\w.-]*)$/.exec(before);
  if (m) {
    const keyIndent = m[1].length + (m[2] ? m[2].length : 0);
    const path = pathAt(context.state.doc, line.number, keyIndent);
    if (m[2]) path.push("[]");
    path.push(m[3]);
    const node = resolve(path);
    if (!node) return null;
    const values = new Set();
    for (const alt of alternatives(node)) {
      (alt.enum || []).forEach((v) => values.add(String(v)));
      if (alt.const !== undefined) values.add(String(alt.const));
      if (alt.type === "boolean") { values.add("true"); values.add("false"); }
    }
    if (!values.size) return null;
    return { from: context.pos - m[4].length, options: [...values].map((v) => ({ label: v, type: "enum" })) };
  }
  return null;
}

// --- lint and preview -----------------------------------------------------------------------
function sampleAnswers() {
  const raw = answersBox.value.trim();
  if (!raw) return {};
  try {
    const value = JSON.parse(raw);
    answersError.hidden = true;
    return value;
  } catch (e) {
    answersError.textContent = e.message;
    answersError.hidden = false;
    return null;
  }
}

function showFindings(findings) {
  lintList.replaceChildren();
  if (!findings.length) {
    const li = document.createElement("li");
    li.className = "lint-ok";
    li.textContent = root.dataset.lintOk;
    lintList.append(li);
  }
  for (const f of findings) {
    const li = document.createElement("li");
    li.className = "lint-" + f.severity;
    li.textContent = `${root.dataset.lineLabel} ${f.line}:${f.col} – ${f.message}`;
    lintList.append(li);
  }
}

function showPreview(result) {
  if (result.answers_error) {
    answersError.textContent = result.answers_error;
    answersError.hidden = false;
  }
  if (result.ready) {
    // the text is ready now: a refused submission's "not ready" notice no longer holds
    for (const el of document.querySelectorAll(".notice.studio-not-ready")) el.hidden = true;
  }
  for (const lang of ["vi", "en"]) {
    // no preview of a draft with errors: each column says why, in its language
    const notice = document.getElementById(`preview-${lang}-notice`);
    if (notice) {
      notice.textContent = result.ok ? "" : (result.notice || {})[lang] || "";
      notice.hidden = !notice.textContent;
    }
    for (const part of ["procedure", "form", "fees"]) {
      const target = document.getElementById(`preview-${lang}-${part}`);
      // server-rendered by the portal's own (escaping) templates
      if (target) target.innerHTML = result.ok && result[lang] ? result[lang][part] : "";
    }
  }
  if (!result.ok) return;
  root.dataset.previewed = String(Number(root.dataset.previewed || 0) + 1);
}

async function check(view) {
  const text = view.state.doc.toString();
  const answers = sampleAnswers() || {};
  let result;
  try {
    result = await post(root.dataset.previewUrl, { text, answers });
  } catch (e) {
    return [];
  }
  showFindings(result.findings);
  showPreview(result);
  const doc = view.state.doc;
  return result.findings.map((f) => {
    const line = doc.line(Math.min(Math.max(f.line, 1), doc.lines));
    const from = Math.min(line.from + Math.max(f.col - 1, 0), line.to);
    return { from, to: line.to > from ? line.to : from, severity: f.severity === "error" ? "error" : "warning", message: f.message };
  });
}

const readOnly = root.dataset.readonly === "true";
const view = new EditorView({
  state: EditorState.create({
    doc: textarea.value,
    extensions: [
      basicSetup,
      yaml(),
      EditorView.lineWrapping, // long lines (the import's TODO notes) wrap instead of hiding
      EditorView.cspNonce.of(root.dataset.nonce || ""),
      EditorState.readOnly.of(readOnly),
      autocompletion({ override: [schemaCompletion] }),
      linter(check, { delay: 500 }),
      lintGutter(),
      EditorView.contentAttributes.of({ "aria-label": textarea.labels[0] ? textarea.labels[0].textContent : "YAML" }),
      EditorView.updateListener.of((update) => {
        if (update.docChanged) textarea.value = update.state.doc.toString();
      }),
    ],
  }),
});
textarea.hidden = true;
textarea.after(view.dom);
root.dataset.editor = "ready";
window.motcuaStudio = view; // for tests and the browser console

let timer = null;
answersBox.addEventListener("input", () => {
  clearTimeout(timer);
  // the text did not change, so the linter would not run again: ask for the preview here
  timer = setTimeout(() => check(view).then((found) => view.dispatch(setDiagnostics(view.state, found))), 500);
});
