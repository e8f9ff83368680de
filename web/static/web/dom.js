// A small element builder: h("button", {type: "button", onclick}, "Start").
export function h(tag, attributes = {}, ...children) {
  const svg = ["svg", "g", "rect", "text", "title", "line"].includes(tag);
  const element = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "value" && !svg) element.value = value;
    else if (name === "checked") element.checked = Boolean(value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

let fieldCount = 0;

// A labelled field: the label's text is its visible and accessible name.
export function field(label, attributes = {}) {
  const id = attributes.id || `field-${++fieldCount}`;
  const tag = attributes.tag || "input";
  const options = attributes.options;
  const control = h(tag, {...attributes, id, tag: undefined, options: undefined},
    (options || []).map(([value, text]) => h("option", {value, selected: String(value) === String(attributes.value ?? "")}, text)));
  if (attributes.type === "checkbox") return h("div", {class: "check"}, control, h("label", {for: id}, label));
  return h("div", {class: "field"}, h("label", {for: id}, label), control);
}

// Checkboxes for a set of choices (tags): a fieldset whose legend names them.
export function checkboxes(legend, name, choices, checked = []) {
  return h("fieldset", {class: "choices"}, h("legend", {}, legend),
    choices.length ? choices.map(([value, label]) => {
      const id = `field-${++fieldCount}`;
      return h("span", {class: "check"},
        h("input", {type: "checkbox", id, name, value, checked: checked.map(String).includes(String(value))}),
        h("label", {for: id}, label));
    }) : h("span", {}, "None yet."));
}

export function checkedValues(form, name) {
  return [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((input) => Number(input.value));
}

export function formValues(form) {
  const values = {};
  for (const element of form.elements) {
    if (!element.name) continue;
    if (element.type === "checkbox" && element.closest(".choices")) continue;
    values[element.name] = element.type === "checkbox" ? element.checked : element.value;
  }
  return values;
}

export function duration(seconds) {
  seconds = Math.max(0, Math.round(seconds));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return hours ? `${hours} h ${String(minutes).padStart(2, "0")} min` : `${minutes} min`;
}

export function clockText(seconds) {
  seconds = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(seconds / 3600);
  const mm = String(Math.floor((seconds % 3600) / 60)).padStart(2, "0");
  const ss = String(seconds % 60).padStart(2, "0");
  return hours ? `${hours}:${mm}:${ss}` : `${mm}:${ss}`;
}

export const KIND_NAMES = {focus: "Focus", short_break: "Short break", long_break: "Long break", stopwatch: "Stopwatch"};

// The states of an active session (at most one a user): running or paused.
export const ACTIVE = new Set(["running", "paused"]);

export function localDate(date = new Date()) {
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 10);
}

export function localDateTime(iso) {
  const date = new Date(iso);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}
