// The stage wizard's front end: one anywidget rendering the stage's JSON Schema as a form.
//
// Generic: every editor is chosen from the schema node (enum -> select, boolean -> checkbox,
// array of records -> table, string map -> key/value table, ...) and from UI hints declared
// beside the fields in the Python settings schema (x-ui-*). No per-field code lives here.
// Python validates every change with the same validator as the CLI and sends the errors back;
// this file only shows them. Colours come from JupyterLab's CSS variables (wizard.css).

const MULTI_MAX = 8; // up to this many choices render as checkboxes, more as a listbox
const MAX_COLUMNS = 6; // columns of a record table; further fields go to the row's "more" disclosure

let uid = 0;
const nextId = (p) => `mlops-${p}-${++uid}`;

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

function getAt(obj, path) {
  let cur = obj;
  for (const p of path) {
    if (cur === null || cur === undefined) return undefined;
    cur = cur[p];
  }
  return cur;
}

function setAt(obj, path, value) {
  let cur = obj;
  for (let i = 0; i < path.length - 1; i++) {
    const p = path[i];
    if (cur[p] === null || cur[p] === undefined || typeof cur[p] !== "object") {
      cur[p] = typeof path[i + 1] === "number" ? [] : {};
    }
    cur = cur[p];
  }
  cur[path[path.length - 1]] = value;
}

const pathKey = (path) => path.join(".");

// ---------------------------------------------------------------------------
// Schema: resolve $ref / nullable anyOf into one node with a `kind`

function makeResolver(root) {
  const defs = root.$defs || root.definitions || {};
  const deref = (node) => {
    let n = node || {};
    let guard = 0;
    while (n.$ref && guard++ < 20) {
      const name = n.$ref.split("/").pop();
      const { $ref, ...rest } = n;
      n = { ...(defs[name] || {}), ...rest };
    }
    return n;
  };
  const resolve = (node) => {
    let n = deref(node);
    let nullable = false;
    const alts = n.anyOf || n.oneOf;
    if (alts) {
      const { anyOf, oneOf, ...outer } = n;
      const members = alts.map(deref);
      const nonNull = members.filter((m) => m.type !== "null");
      nullable = nonNull.length < members.length;
      if (nonNull.length === 1) {
        n = { ...resolve(nonNull[0]), ...outer };
      } else if (nonNull.every((m) => m.enum || "const" in m)) {
        n = { ...outer, enum: nonNull.flatMap((m) => m.enum || [m.const]) };
        const labels = Object.assign({}, ...nonNull.map((m) => m["x-enum-labels"] || {}), outer["x-enum-labels"] || {});
        n["x-enum-labels"] = labels;
      } else {
        n = { ...outer, kind: "json" };
      }
    }
    if (n.allOf && n.allOf.length === 1) {
      const { allOf, ...outer } = n;
      n = { ...resolve(allOf[0]), ...outer };
    }
    n = { ...n };
    n.nullable = nullable || !!n.nullable;
    if (!n.kind) n.kind = kindOf(n);
    if (n.kind === "table" || n.kind === "multi" || n.kind === "lines" || n.kind === "matrix") n.itemNode = resolve(n.items);
    return n;
  };
  const kindOf = (n) => {
    if (n.enum || "const" in n) return "choice";
    const t = n.type;
    if (t === "boolean") return n.nullable ? "choice" : "bool";
    if (t === "integer" || t === "number") return "number";
    if (t === "string") return "text";
    if (t === "array") {
      const item = resolve(n.items);
      if (item.kind === "choice") return "multi";
      if (item.kind === "record") return n["x-ui-widget"] === "matrix" ? "matrix" : "table";
      if (item.kind === "text" || item.kind === "number") return "lines";
      return "json";
    }
    if (t === "object" || n.properties) {
      if (n.properties) return "record";
      const ap = n.additionalProperties;
      if (ap && typeof ap === "object" && ["text", "number"].includes(resolve(ap).kind)) return "kv";
      return "json";
    }
    return "json";
  };
  return resolve;
}

function choicesOf(node) {
  const values = node.enum || ("const" in node ? [node.const] : node.type === "boolean" ? [true, false] : []);
  const labels = node["x-enum-labels"] || {};
  return values.map((v) => ({ value: v, label: labels[String(v)] ?? (typeof v === "boolean" ? (v ? "Yes" : "No") : String(v)) }));
}

const titleOf = (node, key) => node.title || String(key);

function placeholderOf(node) {
  if (node["x-ui-placeholder"]) return node["x-ui-placeholder"];
  if (node.examples && node.examples.length) return `e.g. ${node.examples[0]}`;
  if (node.format === "date") return "YYYY-MM-DD";
  if (node.format === "date-time") return "YYYY-MM-DDThh:mm:ss";
  return undefined;
}

function boundsHint(node) {
  const parts = [];
  if (node.kind === "number") {
    const lo = node.minimum ?? node.exclusiveMinimum;
    const hi = node.maximum ?? node.exclusiveMaximum;
    if (lo !== undefined && hi !== undefined) parts.push(`${lo} to ${hi}`);
    else if (lo !== undefined) parts.push(node.minimum !== undefined ? `at least ${lo}` : `more than ${lo}`);
    else if (hi !== undefined) parts.push(node.maximum !== undefined ? `at most ${hi}` : `less than ${hi}`);
  }
  if (node["x-rule-text"]) {
    const span = node.minLength !== undefined && node.maxLength !== undefined ? `${node.minLength}-${node.maxLength} characters, ` : "";
    parts.push(span + node["x-rule-text"]);
  }
  return parts.join("; ");
}

// Long text is declared (x-ui-widget: textarea), never guessed from maxLength: the settings guard
// writes a maxLength of 10,000 into every string, which made every field (choices too) a full-width
// text area, and every table cell a one-row text area that clipped its value.
function isLong(node) {
  return node.kind === "text" && node["x-ui-widget"] === "textarea";
}

function showIfOk(node, parentValue) {
  const cond = node["x-ui-show-if"];
  if (!cond) return true;
  const v = parentValue || {};
  return Object.entries(cond).every(([k, want]) => (Array.isArray(want) ? want.includes(v[k]) : v[k] === want));
}

// ---------------------------------------------------------------------------
// The form

class Form {
  constructor(schema, value, onEdit) {
    this.schema = schema;
    this.resolve = makeResolver(schema);
    this.root = this.resolve(schema);
    this.value = clone(value) || {};
    this.onEdit = onEdit;
    this.fields = new Map(); // path -> {el, input, err, label}
    this.conditional = []; // {el, node, parentPath}
  }

  edit(path, v) {
    setAt(this.value, path, v);
    this.refreshConditional();
    this.onEdit(this.value, path);
  }

  register(path, rec) {
    this.fields.set(pathKey(path), rec);
  }

  refreshConditional() {
    for (const c of this.conditional) {
      if (!c.el.isConnected) continue;
      c.el.hidden = !showIfOk(c.node, getAt(this.value, c.parentPath));
    }
  }

  // A labelled field (label, help, control, error line)
  field(key, node, path, parentPath) {
    const id = nextId("f");
    const helpId = `${id}-help`;
    const errId = `${id}-err`;
    const title = titleOf(node, key);
    const hint = boundsHint(node);
    const help = [node.description || "", hint ? `(${hint})` : ""].filter(Boolean).join(" ");
    const wide = ["record", "table", "kv", "json", "matrix", "lines"].includes(node.kind) || isLong(node) ||
      (node.kind === "multi" && choicesOf(node.itemNode).length > 4);
    const wrap = h("div", {
      class: `mlops-field mlops-kind-${node.kind}${wide ? " mlops-wide" : ""} mlops-f-${pathKey(path).replace(/[^A-Za-z0-9_-]/g, "-")}`,
      dataset: { path: pathKey(path) },
    });
    const err = h("div", { class: "mlops-error-slot", id: errId, "aria-live": "polite" });
    const group = ["record", "table", "kv", "multi", "matrix"].includes(node.kind) || (node.kind === "bool");
    const control = this.control(node, path, { id, describedBy: `${helpId} ${errId}`, label: title });
    if (node.kind === "bool") {
      wrap.append(control.el);
      if (help) wrap.append(h("div", { class: "mlops-help", id: helpId, text: help }));
    } else if (group) {
      const fs = h("fieldset", { class: "mlops-group", "aria-describedby": `${helpId} ${errId}` },
        h("legend", { class: "mlops-label", text: title }));
      if (help) fs.append(h("div", { class: "mlops-help", id: helpId, text: help }));
      fs.append(control.el);
      wrap.append(fs);
    } else {
      wrap.append(h("label", { class: "mlops-label", for: id, text: title }));
      if (help) wrap.append(h("div", { class: "mlops-help", id: helpId, text: help }));
      wrap.append(control.el);
    }
    wrap.append(err);
    this.register(path, { el: wrap, input: control.focus || control.el, err, label: title });
    if (node["x-ui-show-if"]) {
      this.conditional.push({ el: wrap, node, parentPath });
      wrap.hidden = !showIfOk(node, getAt(this.value, parentPath));
    }
    return wrap;
  }

  // The input for a node. opts: {id, describedBy, label, compact}
  control(node, path, opts) {
    const v = getAt(this.value, path);
    const common = { id: opts.id, "aria-describedby": opts.describedBy, "aria-label": opts.compact ? opts.label : undefined };
    switch (node.kind) {
      case "choice": {
        const choices = choicesOf(node);
        const sel = h("select", { ...common, class: "mlops-input" });
        const values = choices.map((c) => c.value);
        if (node.nullable) sel.append(h("option", { value: "__null__", text: "(not set)" }));
        for (const c of choices) sel.append(h("option", { value: JSON.stringify(c.value), text: c.label }));
        if (v !== null && v !== undefined && !values.some((x) => x === v)) {
          sel.append(h("option", { value: JSON.stringify(v), text: `${v} (not allowed)` }));
        }
        sel.value = v === null || v === undefined ? (node.nullable ? "__null__" : JSON.stringify(values[0])) : JSON.stringify(v);
        sel.addEventListener("change", () => this.edit(path, sel.value === "__null__" ? null : JSON.parse(sel.value)));
        return { el: sel };
      }
      case "bool": {
        const box = h("input", { ...common, type: "checkbox", class: "mlops-check" });
        box.checked = !!v;
        box.addEventListener("change", () => this.edit(path, box.checked));
        if (opts.compact) return { el: box };
        return { el: h("label", { class: "mlops-checkline" }, box, h("span", { class: "mlops-label", text: opts.label })), focus: box };
      }
      case "number": {
        const inp = h("input", {
          ...common, type: "text", inputmode: node.type === "integer" ? "numeric" : "decimal", class: "mlops-input",
          placeholder: placeholderOf(node),
        });
        inp.value = v === null || v === undefined ? "" : String(v);
        inp.addEventListener("input", () => {
          const t = inp.value.trim();
          if (t === "") return this.edit(path, node.nullable ? null : t);
          const n = Number(t);
          this.edit(path, Number.isFinite(n) && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t) ? n : t);
        });
        return { el: inp };
      }
      case "text": {
        const long = isLong(node);
        const inp = long
          ? h("textarea", { ...common, class: "mlops-input", rows: opts.compact ? 1 : 3, placeholder: placeholderOf(node) })
          : h("input", { ...common, type: "text", class: "mlops-input", placeholder: placeholderOf(node), autocomplete: "off" });
        inp.value = v === null || v === undefined ? "" : String(v);
        inp.addEventListener("input", () => this.edit(path, node.nullable && inp.value.trim() === "" ? null : inp.value));
        return { el: inp };
      }
      case "lines": {
        const ta = h("textarea", { ...common, class: "mlops-input", rows: opts.compact ? 1 : 3, placeholder: "one per line" });
        ta.value = Array.isArray(v) ? v.join("\n") : "";
        ta.addEventListener("input", () => {
          const items = ta.value.split("\n").map((s) => s.trim()).filter((s) => s !== "");
          const num = node.itemNode.kind === "number";
          this.edit(path, items.map((s) => (num && Number.isFinite(Number(s)) ? Number(s) : s)));
        });
        return { el: ta };
      }
      case "multi":
        return this.multi(node, path, opts);
      case "record":
        return this.record(node, path, opts);
      case "table":
        return this.table(node, path, opts);
      case "matrix":
        return this.matrix(node, path, opts);
      case "kv":
        return this.kv(node, path, opts);
      default: {
        const ta = h("textarea", { ...common, class: "mlops-input mlops-json", rows: 4 });
        ta.value = JSON.stringify(v ?? null, null, 1);
        ta.addEventListener("input", () => {
          try { this.edit(path, JSON.parse(ta.value)); } catch (e) { this.edit(path, ta.value); }
        });
        return { el: ta };
      }
    }
  }

  multi(node, path, opts) {
    const choices = choicesOf(node.itemNode);
    const current = () => (Array.isArray(getAt(this.value, path)) ? getAt(this.value, path) : []);
    const summaryText = () => {
      const on = choices.filter((c) => current().includes(c.value)).map((c) => c.label);
      return on.length ? on.join(", ") : "(none)";
    };
    const boxes = h("div", { class: "mlops-multi", role: "group", "aria-label": opts.label });
    let summary = null;
    for (const c of choices) {
      const cb = h("input", { type: "checkbox" });
      cb.checked = current().includes(c.value);
      cb.addEventListener("change", () => {
        const set = new Set(current());
        if (cb.checked) set.add(c.value); else set.delete(c.value);
        // keep the schema's order
        this.edit(path, choices.map((x) => x.value).filter((x) => set.has(x)));
        if (summary) summary.textContent = summaryText();
      });
      boxes.append(h("label", { class: "mlops-checkline" }, cb, h("span", { text: c.label })));
    }
    if (!opts.compact && choices.length <= MULTI_MAX * 3) return { el: boxes, focus: boxes.querySelector("input") };
    // compact (a table cell): a disclosure listing the checkboxes
    summary = h("summary", { class: "mlops-input", "aria-label": `${opts.label}: ${summaryText()}`, text: summaryText() });
    const det = h("details", { class: "mlops-multi-pop" }, summary, boxes);
    return { el: det, focus: summary };
  }

  record(node, path, opts) {
    const props = node.properties || {};
    const box = h("div", { class: opts.compact ? "mlops-record mlops-compact" : "mlops-record" });
    const grid = h("div", { class: "mlops-grid" });
    const order = node["x-ui-order"] || Object.keys(props);
    for (const key of order) {
      if (!props[key]) continue;
      const child = this.resolve(props[key]);
      if (child["x-ui-hidden"]) continue;
      grid.append(this.field(key, child, [...path, key], path));
    }
    if (node.nullable) {
      const v = getAt(this.value, path);
      const cb = h("input", { type: "checkbox" });
      cb.checked = v !== null && v !== undefined;
      grid.hidden = !cb.checked;
      cb.addEventListener("change", () => {
        grid.hidden = !cb.checked;
        this.edit(path, cb.checked ? (getAt(this.value, path) || defaultsOf(this.resolve, node)) : null);
        if (cb.checked) this.rerender(path);
      });
      box.append(h("label", { class: "mlops-checkline" }, cb, h("span", { text: `Set ${opts.label.toLowerCase()}` })));
      box.append(grid);
      return { el: box, focus: cb };
    }
    box.append(grid);
    return { el: box, focus: grid.querySelector("input,select,textarea,summary") };
  }

  // Re-render the field at path in place (after a structural change: rows added, removed, moved)
  rerender(path) {
    const rec = this.fields.get(pathKey(path));
    if (!rec) return;
    const prefix = pathKey(path) + ".";
    for (const k of [...this.fields.keys()]) if (k.startsWith(prefix)) this.fields.delete(k);
    const key = path[path.length - 1];
    const parentPath = path.slice(0, -1);
    const node = this.nodeAt(path);
    const fresh = this.field(key, node, path, parentPath);
    rec.el.replaceWith(fresh);
    if (this.onRerender) this.onRerender();
  }

  nodeAt(path) {
    let node = this.root;
    for (const p of path) {
      if (typeof p === "number") node = node.itemNode || this.resolve(node.items);
      else node = this.resolve((node.properties || {})[p] || {});
    }
    return node;
  }

  table(node, path, opts) {
    const item = node.itemNode;
    const props = item.properties || {};
    const allCols = (item["x-ui-order"] || Object.keys(props)).filter((k) => props[k] && !this.resolve(props[k])["x-ui-hidden"]);
    // a wide record keeps its first columns in the table and the rest in a "more" row, so it fits
    const maxCols = node["x-ui-columns"] || MAX_COLUMNS;
    const cols = allCols.slice(0, maxCols);
    const moreCols = allCols.slice(maxCols);
    const rows = () => (Array.isArray(getAt(this.value, path)) ? getAt(this.value, path) : []);
    const label = opts.label;
    const noun = node["x-ui-item"] || singular(label);
    const wrap = h("div", { class: "mlops-table-wrap" });
    const table = h("table", { class: "mlops-table mlops-edit-table" });
    const colNodes = cols.map((k) => this.resolve(props[k]));
    table.append(h("thead", {}, h("tr", {},
      h("th", { scope: "col", class: "mlops-rownum", text: "#" }),
      cols.map((k, i) => h("th", { scope: "col", title: colNodes[i].description || "" }, titleOf(colNodes[i], k),
        colNodes[i].description ? h("span", { class: "mlops-visually-hidden", text: `: ${colNodes[i].description}` }) : null)),
      h("th", { scope: "col", class: "mlops-rowactions" }, h("span", { class: "mlops-visually-hidden", text: "Actions" })))));
    const body = h("tbody");
    rows().forEach((row, r) => {
      const tr = h("tr", { dataset: { path: pathKey([...path, r]) } });
      tr.append(h("th", { scope: "row", class: "mlops-rownum", text: String(r + 1) }));
      cols.forEach((k, i) => {
        const cnode = colNodes[i];
        const cpath = [...path, r, k];
        const id = nextId("c");
        const errId = `${id}-err`;
        const cellLabel = `${titleOf(cnode, k)}, ${noun} ${r + 1}`;
        const ctl = this.control(cnode, cpath, { id, describedBy: errId, label: cellLabel, compact: true });
        const err = h("div", { class: "mlops-error-slot", id: errId, "aria-live": "polite" });
        const td = h("td", { class: `mlops-cell mlops-kind-${cnode.kind} mlops-f-${pathKey(cpath).replace(/[^A-Za-z0-9_-]/g, "-")}`, dataset: { path: pathKey(cpath) } }, ctl.el, err);
        this.register(cpath, { el: td, input: ctl.focus || ctl.el, err, label: cellLabel });
        if (cnode["x-ui-show-if"]) {
          this.conditional.push({ el: ctl.el, node: cnode, parentPath: [...path, r] });
          ctl.el.hidden = !showIfOk(cnode, row);
        }
        tr.append(td);
      });
      const n = rows().length;
      const act = h("td", { class: "mlops-rowactions" }, h("div", { class: "mlops-rowbtns" },
        h("button", { type: "button", class: "mlops-btn mlops-icon", "aria-label": `Move ${noun} ${r + 1} up`, title: "Move up", disabled: r === 0, onclick: () => this.moveRow(path, r, -1) }, "↑"),
        h("button", { type: "button", class: "mlops-btn mlops-icon", "aria-label": `Move ${noun} ${r + 1} down`, title: "Move down", disabled: r === n - 1, onclick: () => this.moveRow(path, r, 1) }, "↓"),
        h("button", { type: "button", class: "mlops-btn mlops-icon mlops-remove", "aria-label": `Remove ${noun} ${r + 1}`, title: "Remove", onclick: () => this.removeRow(path, r) }, "✕")));
      tr.append(act);
      body.append(tr);
      if (moreCols.length) {
        const grid = h("div", { class: "mlops-grid" });
        for (const k of moreCols) grid.append(this.field(k, this.resolve(props[k]), [...path, r, k], [...path, r]));
        const names = moreCols.map((k) => titleOf(this.resolve(props[k]), k)).join(", ");
        body.append(h("tr", { class: "mlops-more-row" }, h("td", { class: "mlops-rownum" }), h("td", { colspan: String(cols.length + 1) },
          h("details", { class: "mlops-more" }, h("summary", { text: `More of ${noun} ${r + 1}: ${names}` }), grid))));
      }
    });
    table.append(body);
    if (rows().length) wrap.append(table);
    else wrap.append(h("div", { class: "mlops-empty", text: `No ${label.toLowerCase()} yet.` }));
    const add = h("button", { type: "button", class: "mlops-btn mlops-add", onclick: () => {
      const list = clone(rows());
      list.push(defaultsOf(this.resolve, item));
      this.edit(path, list);
      this.rerender(path);
      const first = this.fields.get(pathKey([...path, list.length - 1, cols[0]]));
      if (first && first.input.focus) first.input.focus();
    } }, `+ Add ${noun}`);
    const box = h("div", { class: "mlops-records" }, wrap, add);
    return { el: box, focus: table.querySelector("input,select,textarea,summary") || add };
  }

  moveRow(path, r, d) {
    const list = clone(getAt(this.value, path));
    const [row] = list.splice(r, 1);
    list.splice(r + d, 0, row);
    this.edit(path, list);
    this.rerender(path);
  }

  removeRow(path, r) {
    const list = clone(getAt(this.value, path));
    list.splice(r, 1);
    this.edit(path, list);
    this.rerender(path);
  }

  // A list of records keyed by two choice fields, as a grid: rows x columns -> a choice per cell.
  // Hints: x-ui-matrix = {row: field, col: field, cell: field}; the column choices may come from
  // another setting's values (x-ui-matrix.col_source = "environments.name").
  matrix(node, path, opts) {
    this.asTable = this.asTable || new Set();
    const key = pathKey(path);
    const toggle = h("button", { type: "button", class: "mlops-btn mlops-view-toggle", "aria-pressed": this.asTable.has(key) ? "true" : "false",
      onclick: () => { if (this.asTable.has(key)) this.asTable.delete(key); else this.asTable.add(key); this.rerender(path); } },
      this.asTable.has(key) ? "Show as a matrix" : "Show every column (table)");
    if (this.asTable.has(key)) {
      const t = this.table(node, path, opts);
      return { el: h("div", {}, toggle, t.el), focus: t.focus };
    }
    const m = this.matrixGrid(node, path, opts);
    return { el: h("div", {}, toggle, m.el), focus: m.focus };
  }

  matrixGrid(node, path, opts) {
    const spec = node["x-ui-matrix"] || {};
    const item = node.itemNode;
    const props = item.properties || {};
    const rowNode = this.resolve(props[spec.row] || {});
    const cellNode = this.resolve(props[spec.cell] || {});
    const colNode = this.resolve(props[spec.col] || {});
    const list = () => (Array.isArray(getAt(this.value, path)) ? getAt(this.value, path) : []);
    let colValues = colNode.enum ? choicesOf(colNode) : [];
    if (spec.col_source) {
      const [listKey, fieldKey] = spec.col_source.split(".");
      const src = getAt(this.value, [listKey]);
      if (Array.isArray(src)) colValues = src.map((x) => x && x[fieldKey]).filter(Boolean).map((v) => ({ value: v, label: v }));
    }
    for (const r of list()) {
      if (r && r[spec.col] !== undefined && !colValues.some((c) => c.value === r[spec.col])) colValues.push({ value: r[spec.col], label: String(r[spec.col]) });
    }
    const rowValues = choicesOf(rowNode);
    const cellChoices = choicesOf(cellNode);
    const table = h("table", { class: "mlops-table mlops-matrix" });
    table.append(h("thead", {}, h("tr", {}, h("th", { scope: "col", text: titleOf(rowNode, spec.row) }),
      colValues.map((c) => h("th", { scope: "col", text: c.label })))));
    const body = h("tbody");
    for (const rv of rowValues) {
      const tr = h("tr", {}, h("th", { scope: "row", text: rv.label }));
      for (const cv of colValues) {
        const idx = list().findIndex((x) => x && x[spec.row] === rv.value && x[spec.col] === cv.value);
        const label = `${opts.label}: ${rv.label} in ${cv.label}`;
        const isChoice = cellNode.kind === "choice";
        let sel;
        if (isChoice) {
          sel = h("select", { class: "mlops-input", "aria-label": label });
          sel.append(h("option", { value: "__none__", text: "—" }));
          for (const c of cellChoices) sel.append(h("option", { value: JSON.stringify(c.value), text: c.label }));
          sel.value = idx >= 0 ? JSON.stringify(list()[idx][spec.cell]) : "__none__";
        } else {
          // a free-text cell: empty means "no entry for this row and column"
          sel = h("input", { type: "text", class: "mlops-input", "aria-label": label, placeholder: "—" });
          sel.value = idx >= 0 ? String(list()[idx][spec.cell] ?? "") : "";
        }
        const cellValue = () => (isChoice ? (sel.value === "__none__" ? null : JSON.parse(sel.value)) : (sel.value.trim() === "" ? null : sel.value));
        sel.addEventListener(isChoice ? "change" : "input", () => {
          const l = clone(list());
          const i = l.findIndex((x) => x && x[spec.row] === rv.value && x[spec.col] === cv.value);
          const v = cellValue();
          if (v === null) { if (i >= 0) l.splice(i, 1); }
          else if (i >= 0) l[i][spec.cell] = v;
          else l.push({ ...defaultsOf(this.resolve, item), [spec.row]: rv.value, [spec.col]: cv.value, [spec.cell]: v });
          this.edit(path, l);
        });
        const err = h("div", { class: "mlops-error-slot", "aria-live": "polite" });
        const td = h("td", { class: "mlops-cell" }, sel, err);
        if (idx >= 0) {
          for (const f of Object.keys(props)) this.register([...path, idx, f], { el: td, input: sel, err, label });
        }
        tr.append(td);
      }
      body.append(tr);
    }
    table.append(body);
    return { el: h("div", { class: "mlops-table-wrap" }, table), focus: table.querySelector("select") };
  }

  kv(node, path, opts) {
    const numeric = this.resolve(node.additionalProperties || {}).kind === "number";
    const obj = () => (getAt(this.value, path) && typeof getAt(this.value, path) === "object" ? getAt(this.value, path) : {});
    const entries = Object.entries(obj());
    const table = h("table", { class: "mlops-table mlops-edit-table" });
    table.append(h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "Key" }), h("th", { scope: "col", text: "Value" }),
      h("th", { scope: "col" }, h("span", { class: "mlops-visually-hidden", text: "Actions" })))));
    const body = h("tbody");
    const collect = () => {
      const out = {};
      for (const tr of body.querySelectorAll("tr")) {
        const [k, v] = tr.querySelectorAll("input");
        const num = numeric && v.value.trim() !== "" && Number.isFinite(Number(v.value)) ? Number(v.value) : v.value;
        if (k.value !== "" || v.value !== "") out[k.value] = num;
      }
      return out;
    };
    const addRow = (k, v) => {
      const n = body.children.length + 1;
      const ki = h("input", { type: "text", class: "mlops-input", "aria-label": `${opts.label}: key ${n}`, value: k });
      const vi = h("input", { type: "text", class: "mlops-input", "aria-label": `${opts.label}: value ${n}`, value: v });
      ki.value = k; vi.value = v;
      const tr = h("tr", {}, h("td", {}, ki), h("td", {}, vi), h("td", { class: "mlops-rowactions" },
        h("button", { type: "button", class: "mlops-btn mlops-icon mlops-remove", "aria-label": `Remove entry ${n}`, onclick: () => { tr.remove(); this.edit(path, collect()); } }, "✕")));
      ki.addEventListener("input", () => this.edit(path, collect()));
      vi.addEventListener("input", () => this.edit(path, collect()));
      body.append(tr);
      return ki;
    };
    entries.forEach(([k, v]) => addRow(k, String(v)));
    table.append(body);
    const add = h("button", { type: "button", class: "mlops-btn mlops-add", onclick: () => addRow("", "").focus() }, "+ Add entry");
    return { el: h("div", { class: "mlops-records" }, h("div", { class: "mlops-table-wrap" }, table), add), focus: add };
  }

  // Show errors: each beside the deepest rendered field its path names; returns the unplaced ones
  showErrors(errors) {
    for (const rec of this.fields.values()) {
      if (rec.err) rec.err.replaceChildren();
      rec.el.classList.remove("mlops-invalid");
      if (rec.input && rec.input.removeAttribute) rec.input.removeAttribute("aria-invalid");
    }
    const unplaced = [];
    for (const e of errors) {
      const parts = e.field.split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p));
      let rec = null;
      for (let n = parts.length; n > 0 && !(rec && rec.err); n--) rec = this.fields.get(pathKey(parts.slice(0, n)));
      if (!rec || !rec.err) { unplaced.push(e); continue; }
      rec.el.classList.add("mlops-invalid");
      if (rec.el.hidden) rec.el.hidden = false; // a hidden field with an error is shown, never lost
      for (let d = rec.el.closest("details"); d; d = d.parentElement && d.parentElement.closest("details")) d.open = true;
      if (rec.input && rec.input.setAttribute) rec.input.setAttribute("aria-invalid", "true");
      rec.err.append(errorLine(e, rec.label && pathKey(parts) !== rec.path ? e.label : null));
      e._rec = rec;
    }
    return unplaced;
  }

  // Azure pre-flight findings: a note beside the setting each names (after showErrors, which clears the
  // slots); informative only, they never block a step
  showFindings(findings) {
    for (const f of findings) {
      const parts = f.field.split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p));
      let rec = null;
      for (let n = parts.length; n > 0 && !(rec && rec.err); n--) rec = this.fields.get(pathKey(parts.slice(0, n)));
      if (!rec || !rec.err) continue;
      rec.err.append(h("div", { class: "mlops-finding" }, h("span", { "aria-hidden": "true", text: "⚠ " }),
        h("span", { class: "mlops-visually-hidden", text: "Azure pre-flight finding: " }), f.message));
    }
  }

  focusField(field) {
    const parts = field.split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    for (let n = parts.length; n > 0; n--) {
      const rec = this.fields.get(pathKey(parts.slice(0, n)));
      if (rec) {
        let el = rec.el;
        while (el) { if (el.tagName === "DETAILS") el.open = true; el = el.parentElement; }
        rec.el.scrollIntoView({ block: "center" });
        const target = rec.input && rec.input.focus ? rec.input : rec.el.querySelector("input,select,textarea,summary,button");
        if (target) target.focus();
        return true;
      }
    }
    return false;
  }
}

function errorLine(e) {
  const got = e.got ? h("span", { class: "mlops-got", text: ` (got ${e.got})` }) : null;
  return h("div", { class: "mlops-error" }, h("span", { "aria-hidden": "true", text: "✖ " }),
    h("span", { class: "mlops-visually-hidden", text: "Error: " }), e.message, got,
    h("span", { class: "mlops-rule", text: ` rule: ${e.rule}` }));
}

function defaultsOf(resolve, node) {
  if (node.default !== undefined) return clone(node.default);
  if (node.kind === "record") {
    const out = {};
    for (const [k, p] of Object.entries(node.properties || {})) {
      const c = resolve(p);
      if (c.default !== undefined) out[k] = clone(c.default);
      else if (c.nullable) out[k] = null;
      else if (c.kind === "table" || c.kind === "multi" || c.kind === "lines") out[k] = [];
      else if (c.kind === "kv") out[k] = {};
      else if (c.kind === "record") out[k] = defaultsOf(resolve, c);
      else if (c.kind === "bool") out[k] = false;
      else if (c.kind === "choice") out[k] = choicesOf(c)[0]?.value ?? null;
      else out[k] = "";
    }
    return out;
  }
  return null;
}

function singular(title) {
  const words = (title || "item").trim().toLowerCase().split(/\s+/);
  let last = words.pop();
  if (last.endsWith("ies")) last = last.slice(0, -3) + "y";
  else if (last.endsWith("sses")) last = last.slice(0, -2);
  else if (last.endsWith("s") && !last.endsWith("ss")) last = last.slice(0, -1);
  return [...words, last].join(" ");
}

// ---------------------------------------------------------------------------
// The wizard: header, stepper, steps, navigation

function render({ model, el }) {
  const app = h("div", { class: "mlops-app mlops-wizard" });
  el.append(app);
  const meta = () => model.get("meta") || {};
  const steps = () => meta().steps || [];
  let form = null;
  let rev = model.get("rev") || 0;
  let currentTask = null;
  const panes = {};

  const header = h("header", { class: "mlops-header" });
  const stepper = h("nav", { class: "mlops-stepper", "aria-label": "Wizard steps" });
  const main = h("div", { class: "mlops-body" });
  const live = h("div", { class: "mlops-visually-hidden", role: "status", "aria-live": "polite" });
  const back = h("button", { type: "button", class: "mlops-btn mlops-back" }, "← Back");
  const hint = h("div", { class: "mlops-nav-hint", "aria-live": "polite" });
  const next = h("button", { type: "button", class: "mlops-btn mlops-primary mlops-next" }, "Next →");
  const nextLink = h("a", { class: "mlops-btn mlops-primary mlops-continue", hidden: true });
  const nav = h("div", { class: "mlops-nav" }, back, hint, next, nextLink);
  app.append(header, stepper, main, nav, live);

  // -- header
  const renderHeader = () => {
    const m = meta();
    const links = h("div", { class: "mlops-small mlops-links" });
    (m.links || []).forEach((l, i) => {
      if (i) links.append(" · ");
      links.append(h("a", { href: l.href, class: l.cls || "" , text: l.label }));
    });
    header.replaceChildren(h("div", {}, h("div", { class: "mlops-kicker", text: m.kicker || "" }),
      h("h1", { text: m.title || "" })), links);
  };

  // -- state helpers
  const stepIndex = (name) => steps().findIndex((s) => s.id === name);
  const errors = () => model.get("errors") || [];
  const changes = () => model.get("changes") || [];
  const checking = () => (model.get("checked_rev") || 0) < rev;
  const busyStep = () => model.get("step") !== model.get("ready_step");
  const stepValid = (name) => {
    if (name === "settings") return errors().length === 0 && !checking();
    if (name === "review") return errors().length === 0 && changes().length === 0 && !checking();
    return true;
  };
  const canReach = (i) => steps().slice(0, i).every((s) => stepValid(s.id));
  const blocker = (name) => {
    if (checking()) return "Checking your changes…";
    const n = errors().length;
    if ((name === "settings" || name === "review") && n) return `Fix ${n} setting${n === 1 ? "" : "s"} to continue.`;
    if (name === "review" && changes().length) return "Save your changes to continue: notebooks run from the saved settings.";
    return "";
  };

  const go = (name, { focus = true } = {}) => {
    const i = stepIndex(name);
    if (i < 0 || busyStep()) return false;
    if (!canReach(i)) return false;
    if (name === model.get("step")) return true;
    model.set("step", name);
    model.save_changes();
    showStep(focus);
    return true;
  };

  // -- stepper
  const renderStepper = () => {
    const cur = model.get("step");
    const ci = stepIndex(cur);
    const ol = h("ol", {});
    steps().forEach((s, i) => {
      const n = s.id === "settings" || s.id === "review" ? errors().length : 0;
      const state = i === ci ? "current" : i < ci ? "done" : "todo";
      const b = h("button", {
        type: "button", class: `mlops-step mlops-step-${s.id} mlops-step-${state}${i === ci ? " mlops-step-current" : ""}`,
        "aria-current": i === ci ? "step" : undefined, disabled: i !== ci && (!canReach(i) || busyStep()),
        onclick: () => go(s.id),
      }, h("span", { class: "mlops-step-num", "aria-hidden": "true", text: state === "done" ? "✓" : String(i + 1) }),
      h("span", { class: "mlops-step-label", text: s.label }),
      h("span", { class: "mlops-visually-hidden", text: state === "current" ? " (current step)" : state === "done" ? " (visited)" : "" }),
      n ? h("span", { class: "mlops-badge", "aria-label": `${n} to fix`, text: String(n) }) : null);
      ol.append(h("li", {}, b));
    });
    stepper.replaceChildren(ol);
  };

  const renderNav = () => {
    const cur = model.get("step");
    const i = stepIndex(cur);
    const last = i === steps().length - 1;
    back.disabled = i <= 0 || busyStep();
    const busy = busyStep() || model.get("saving");
    app.setAttribute("aria-busy", busy ? "true" : "false");
    app.classList.toggle("mlops-busy", !!busy);
    const why = busy ? "Loading…" : blocker(cur);
    hint.textContent = why;
    hint.classList.toggle("mlops-error-text", !!why && !busy && !checking());
    next.hidden = last;
    if (!last) {
      next.textContent = `Next: ${steps()[i + 1].label} →`;
      next.disabled = !!busy || !stepValid(cur);
    }
    const cont = meta().continue;
    nextLink.hidden = !(last && cont);
    if (cont) { nextLink.href = cont.href; nextLink.textContent = cont.label; }
  };

  // -- steps
  const heading = (text) => h("h2", { class: "mlops-step-heading", tabindex: "-1", text });

  const buildGuide = () => {
    const pane = h("section", { class: "mlops-pane mlops-guide" }, heading("Guide"));
    const body = h("div");
    body.innerHTML = meta().guide_html || ""; // built by Python from escaped text
    pane.append(body);
    return pane;
  };

  const taskOf = (key) => {
    const p = (form.root.properties || {})[key];
    return (p && form.resolve(p).task) || null;
  };

  const buildSettings = () => {
    form = new Form(model.get("schema"), model.get("value"), (value) => {
      rev += 1;
      model.set("value", clone(value));
      model.set("rev", rev);
      model.save_changes();
      renderStepper();  // later steps wait for Python's check of this edit
      renderNav();
    });
    form.onRerender = () => applyErrors();
    const tasks = meta().tasks || {};
    const order = [];
    const byTask = {};
    for (const key of Object.keys(form.root.properties || {})) {
      const t = taskOf(key) || "";
      if (!(t in byTask)) { byTask[t] = []; order.push(t); }
      byTask[t].push(key);
    }
    const summary = h("div", { class: "mlops-summary-slot" });
    const taskNav = h("nav", { class: "mlops-tasknav", "aria-label": "Tasks of this stage" });
    const sections = h("div", { class: "mlops-form" });
    const sectionEls = {};
    for (const t of order) {
      const info = tasks[t] || { title: t ? "" : "Other settings", summary: "" };
      const hid = nextId("task");
      const sec = h("section", { class: `mlops-task mlops-task-${(t || "other").replace(/[^A-Za-z0-9]/g, "-")}`, "aria-labelledby": hid, dataset: { task: t } },
        h("h3", { class: "mlops-task-head", id: hid, tabindex: "-1" }, t ? h("span", { class: "mlops-task-id", text: t }) : null, ` ${info.title}`),
        info.summary ? h("p", { class: "mlops-task-summary", text: info.summary }) : null);
      const grid = h("div", { class: "mlops-grid" });
      for (const key of byTask[t]) {
        const node = form.resolve(form.root.properties[key]);
        if (node["x-ui-hidden"]) continue;
        grid.append(form.field(key, node, [key], []));
      }
      sec.append(grid);
      const extra = h("div", { class: "mlops-task-extra" });
      sec.append(extra);
      sectionEls[t] = { sec, extra };
      sections.append(sec);
    }
    const showTask = (t) => {
      currentTask = t;
      for (const [k, s] of Object.entries(sectionEls)) s.sec.hidden = !(t === "__all__" || k === t);
      renderTaskNav();
    };
    const renderTaskNav = () => {
      const counts = {};
      for (const e of errors()) {
        const t = taskOf(e.field.split(".")[0]) || "";
        counts[t] = (counts[t] || 0) + 1;
      }
      const ul = h("ul", {});
      for (const t of [...order, "__all__"]) {
        const info = tasks[t] || {};
        const label = t === "__all__" ? "All tasks" : `${t} ${info.title || (t ? "" : "Other settings")}`.trim();
        const n = t === "__all__" ? errors().length : counts[t] || 0;
        ul.append(h("li", {}, h("button", {
          type: "button", class: `mlops-tasklink${t === currentTask ? " mlops-tasklink-current" : ""}${n ? " mlops-tasklink-bad" : ""}`,
          "aria-current": t === currentTask ? "true" : undefined, dataset: { task: t },
          onclick: () => { showTask(t); const s = sectionEls[t]; (s ? s.sec.querySelector("h3") : sections.querySelector("h3"))?.focus(); },
        }, h("span", { text: label }), n ? h("span", { class: "mlops-badge", "aria-label": `${n} to fix`, text: String(n) }) : null)));
      }
      taskNav.replaceChildren(ul);
    };
    const renderExtras = () => {
      const extras = model.get("task_extras") || {};
      for (const [t, s] of Object.entries(sectionEls)) s.extra.innerHTML = extras[t] || ""; // Python-built, escaped
    };
    const pane = h("section", { class: "mlops-pane mlops-settings-pane" }, heading("Settings"), summary,
      h("div", { class: "mlops-settings" }, taskNav, sections));
    pane._showTask = showTask;
    pane._renderTaskNav = renderTaskNav;
    pane._renderExtras = renderExtras;
    pane._summary = summary;
    showTask(order[0]);
    renderExtras();
    return pane;
  };

  const applyErrors = () => {
    if (!form || !panes.settings) return;
    const errs = errors().map((e) => ({ ...e }));
    const unplaced = form.showErrors(errs);
    form.showFindings(model.get("findings") || []);
    const slot = panes.settings._summary;
    slot.replaceChildren();
    if (errs.length) {
      const n = errs.length;
      const ul = h("ul", {});
      for (const e of errs.slice(0, 30)) {
        ul.append(h("li", {}, h("a", { href: "#", class: "mlops-jump", onclick: (ev) => {
          ev.preventDefault();
          const t = taskOf(e.field.split(".")[0]) || "";
          if (currentTask !== "__all__") panes.settings._showTask(t);
          form.focusField(e.field);
        } }, e.label || e.field), `: ${e.message}`, h("span", { class: "mlops-rule", text: ` rule: ${e.rule}` })));
      }
      if (n > 30) ul.append(h("li", { text: `… and ${n - 30} more` }));
      const sumId = nextId("sum");
      slot.append(h("div", { class: "mlops-summary-errors", role: "region", "aria-labelledby": sumId },
        h("h3", { id: sumId, text: `${n} setting${n === 1 ? "" : "s"} to fix before you can continue` }), ul,
        unplaced.length ? h("div", { class: "mlops-small", text: "Errors not tied to one field are listed here only." }) : null));
    }
    panes.settings._renderTaskNav();
  };

  const buildReview = () => {
    const pane = h("section", { class: "mlops-pane mlops-review-pane" }, heading("Review and save"));
    const body = h("div", { class: "mlops-review" });
    const saveBtn = h("button", { type: "button", class: "mlops-btn mlops-primary mlops-save", onclick: () => {
      model.set("saving", true); model.save_changes(); renderNav(); saveBtn.disabled = true;
      model.send({ type: "save", overwrite: false });
    } }, "Save settings");
    const msg = h("div", { class: "mlops-save-message", role: "status", "aria-live": "polite" });
    const conflict = h("div", { class: "mlops-conflict-actions", hidden: true },
      h("button", { type: "button", class: "mlops-btn mlops-load-theirs", onclick: () => model.send({ type: "load_theirs" }) }, "Load their version (discard mine)"),
      h("button", { type: "button", class: "mlops-btn mlops-warning mlops-overwrite", onclick: () => model.send({ type: "save", overwrite: true }) }, "Save mine over theirs"));
    pane.append(body, h("div", { class: "mlops-save-row" }, saveBtn), msg, conflict);
    pane._render = () => {
      body.replaceChildren();
      const errs = errors();
      if (errs.length) {
        body.append(h("div", { class: "mlops-note mlops-bad" }, h("b", { text: `${errs.length} setting(s) break a rule` }),
          "; go back to Settings to fix them.", h("ul", {}, errs.slice(0, 20).map((e) => h("li", {}, h("b", { text: e.label || e.field }), `: ${e.message}`)))));
      }
      const ch = changes();
      if (!ch.length) body.append(h("div", { class: "mlops-note mlops-info", text: "Nothing changed against the saved settings of this stage." }));
      else {
        body.append(h("h3", { text: `${ch.length} change${ch.length === 1 ? "" : "s"} against the saved settings` }));
        const t = h("table", { class: "mlops-table" }, h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "Setting" }), h("th", { scope: "col", text: "Saved" }), h("th", { scope: "col", text: "Yours" }))));
        const tb = h("tbody");
        for (const c of ch) tb.append(h("tr", {}, h("td", {}, h("b", { text: c.label }), h("div", { class: "mlops-small mlops-muted" }, h("code", { text: c.field }))),
          h("td", { class: "mlops-old" }, h("code", { text: c.old })), h("td", { class: "mlops-new" }, h("code", { text: c.new }))));
        t.append(tb);
        body.append(h("div", { class: "mlops-table-wrap" }, t));
        body.append(h("p", { class: "mlops-small", text: `Saving writes them to ${meta().project_path || "the project"} and records them in the project ledger.` }));
      }
      const s = model.get("save_state") || {};
      msg.replaceChildren();
      if (s.text) {
        msg.append(h("div", { class: `mlops-note mlops-${s.kind || "info"}` }, h("b", { text: s.title || "" }), ` ${s.text}`,
          (s.rows && s.rows.length) ? h("table", { class: "mlops-table" }, h("tbody", {}, s.rows.map((r) => h("tr", {}, h("td", {}, h("code", { text: r.field })), h("td", { text: r.old }), h("td", { text: r.new }))))) : null));
      }
      conflict.hidden = !s.conflict;
      saveBtn.disabled = !!model.get("saving") || errs.length > 0 || ch.length === 0 || checking();
    };
    return pane;
  };

  const buildPython = (name, label) => {
    // the Run and Deliverables panels are Python widgets displayed under this one
    const pane = h("section", { class: "mlops-pane" }, heading(label),
      h("p", { class: "mlops-small mlops-muted mlops-below", text: "Shown below." }));
    return pane;
  };

  const paneFor = (name) => {
    if (!panes[name]) {
      const s = steps().find((x) => x.id === name);
      if (name === "guide") panes[name] = buildGuide();
      else if (name === "settings") panes[name] = buildSettings();
      else if (name === "review") panes[name] = buildReview();
      else panes[name] = buildPython(name, s ? s.label : name);
      main.append(panes[name]);
    }
    return panes[name];
  };

  const showStep = (focus) => {
    const cur = model.get("step");
    for (const [k, p] of Object.entries(panes)) p.hidden = k !== cur;
    const pane = paneFor(cur);
    pane.hidden = false;
    if (cur === "settings") applyErrors();
    if (cur === "review") pane._render();
    renderStepper();
    renderNav();
    const s = steps().find((x) => x.id === cur);
    live.textContent = s ? `Step ${stepIndex(cur) + 1} of ${steps().length}: ${s.label}` : "";
    if (focus) pane.querySelector(".mlops-step-heading")?.focus();
  };

  back.addEventListener("click", () => { const i = stepIndex(model.get("step")); if (i > 0) go(steps()[i - 1].id); });
  next.addEventListener("click", (ev) => {
    const i = stepIndex(model.get("step"));
    // the second click of a double click is never a second step (even when Python answered in between)
    if (ev.detail > 1 || next.disabled || i >= steps().length - 1) return;
    go(steps()[i + 1].id);
  });

  // -- Python -> browser
  const onErrors = () => {
    applyErrors();
    if (panes.review && !panes.review.hidden) panes.review._render();
    renderStepper();
    renderNav();
  };
  model.on("change:errors", onErrors);
  model.on("change:findings", onErrors);
  model.on("change:changes", onErrors);
  model.on("change:checked_rev", onErrors);
  model.on("change:ready_step", () => { renderStepper(); renderNav(); });
  model.on("change:saving", () => { if (panes.review) panes.review._render(); renderNav(); });
  model.on("change:save_state", () => { if (panes.review) panes.review._render(); renderNav(); });
  model.on("change:task_extras", () => panes.settings && panes.settings._renderExtras());
  model.on("change:step", () => showStep(true));
  model.on("change:meta", () => { renderHeader(); renderStepper(); renderNav(); });
  model.on("change:value_epoch", () => {
    // Python replaced the values (loaded someone else's save): rebuild the form
    if (panes.settings) { const wasHidden = panes.settings.hidden; panes.settings.remove(); delete panes.settings; if (!wasHidden) showStep(false); }
  });

  // -- unsaved-changes guard
  const guard = (ev) => {
    // an edit Python has not checked yet counts too: a quick close must not lose it
    if (rev > 0 && (changes().length || checking())) { ev.preventDefault(); ev.returnValue = ""; return ""; }
    return undefined;
  };
  window.addEventListener("beforeunload", guard);

  renderHeader();
  showStep(false);
  app.dataset.ready = "true";
  return () => window.removeEventListener("beforeunload", guard);
}

export default { render };
