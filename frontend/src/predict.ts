// Panel 2: a form per model, built from its input schema, and the model's answer.
// The backend is the judge of what is valid (the form has `novalidate`): its 422 messages
// appear next to the fields they name, its warnings (a value outside the training range)
// under the answer. Every field starts at the model's example record (training medians and
// modes), or, for a release made before it had one, the middle of its range.

import {
  ApiError,
  type FieldError,
  type InputSpec,
  type ModelDetail,
  type Prediction,
  predict,
  type Scalar,
  UnreachableError,
} from "./api";
import { formatNumber, h } from "./dom";
import { estimatorLabel } from "./labels";

const EMPTY = "";
// Element ids: names are sanitised for ids, and two names may sanitise alike ("a b", "a_b"),
// so every id also carries a number unique on the page.
let idCounter = 0;
const uniqueId = (...parts: string[]) => `${parts.join("-").replace(/[^A-Za-z0-9_-]/g, "_")}-${++idCounter}`;

export function renderModelCard(model: ModelDetail): HTMLElement {
  const form = h("form", { class: "predict-form", novalidate: true, "data-testid": `form-${model.name}` });
  const controls = new Map<string, Control>();
  const errors = new Map<string, HTMLElement>();

  for (const spec of model.inputs) {
    const control = buildControl(model.name, spec, model.example?.[spec.name]);
    const hint = h("p", { class: "hint", id: `${control.id}-hint` }, describe(spec));
    const error = h("p", { class: "field-error", id: `${control.id}-error`, "data-testid": `error-${model.name}-${spec.name}`, "aria-live": "polite", hidden: true });
    control.setAttribute("aria-describedby", hint.id);
    controls.set(spec.name, control);
    errors.set(spec.name, error);
    form.append(
      h(
        "div",
        { class: "field", "data-field": spec.name },
        h("label", { for: control.id }, spec.name, spec.nullable ? h("span", { class: "muted" }, " (optional)") : null),
        control,
        hint,
        error,
      ),
    );
  }

  const formError = h("p", { class: "form-error", "data-testid": `form-error-${model.name}`, "aria-live": "polite", hidden: true });
  const button = h("button", { type: "submit", "data-testid": `predict-${model.name}` }, "Predict");
  const result = h("div", { class: "result", "data-testid": `result-${model.name}`, "aria-live": "polite" });
  form.append(h("div", { class: "actions" }, button), formError);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const el of [...errors.values(), formError]) showMessage(el, null);
    result.replaceChildren();
    button.disabled = true;
    button.textContent = "Predicting…";
    try {
      const answer = await predict(model.name, readRecord(model.inputs, controls));
      result.append(renderPrediction(model, answer.prediction));
      const warnings = renderWarnings(model, answer.warnings ?? []);
      if (warnings) result.append(warnings);
    } catch (err) {
      showFailure(err, errors, formError);
    } finally {
      button.disabled = false;
      button.textContent = "Predict";
    }
  });

  const primary = model.primary_metric;
  const primaryValue = model.metrics[primary.name];
  return h(
    "article",
    { class: "model-card", id: uniqueId("model", model.name), "data-testid": `model-${model.name}` },
    h("h3", {}, model.name, " ", h("span", { class: "muted small" }, `${model.task} → ${model.output.target}`)),
    h(
      "p",
      { class: "model-meta muted small" },
      estimatorLabel(model.estimator),
      primaryValue === undefined ? null : h("span", {}, `${primary.name} ${formatNumber(primaryValue)}`),
    ),
    form,
    result,
  );
}

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

function buildControl(modelName: string, spec: InputSpec, example: Scalar | null | undefined): Control {
  const common = { id: uniqueId("input", modelName, spec.name), name: spec.name, "data-testid": `input-${modelName}-${spec.name}` };
  if (spec.type === "category" || spec.type === "boolean") {
    const values: Scalar[] = spec.type === "boolean" ? [true, false] : (spec.values ?? []);
    const select = h("select", common);
    if (spec.nullable) select.append(h("option", { value: EMPTY }, "— none —"));
    values.forEach((value, index) => select.append(h("option", { value: String(index) }, String(value))));
    const chosen = example === undefined ? -1 : values.indexOf(example as Scalar);
    if (chosen >= 0) select.value = String(chosen);
    return select;
  }
  if (spec.type === "text") {
    const area = h("textarea", { ...common, rows: 3, maxlength: spec.max_length ?? undefined });
    if (typeof example === "string") area.value = example;
    return area;
  }
  const input = h("input", {
    ...common,
    type: "number",
    step: spec.type === "integer" ? "1" : "any",
    inputmode: spec.type === "integer" ? "numeric" : "decimal",
  });
  if (typeof example === "number") {
    input.value = String(spec.type === "integer" ? Math.round(example) : Number(example.toFixed(2)));
  } else if (example === undefined && !spec.nullable && spec.min !== null && spec.max !== null) {
    const middle = (spec.min + spec.max) / 2;
    input.value = String(spec.type === "integer" ? Math.round(middle) : Number(middle.toFixed(2)));
  }
  return input;
}

function describe(spec: InputSpec): string {
  if (spec.type === "category") return `${spec.accepts_unknown ? "usually " : ""}one of ${(spec.values ?? []).join(", ")}`;
  if (spec.type === "boolean") return "true or false";
  if (spec.type === "text") return spec.max_length ? `text, up to ${spec.max_length} characters` : "text";
  const kind = spec.type === "integer" ? "whole number" : "number";
  if (spec.min !== null && spec.max !== null) return `${kind}, trained on ${spec.min} to ${spec.max}`;
  if (spec.min !== null) return `${kind}, trained on ${spec.min} and up`;
  if (spec.max !== null) return `${kind}, trained on up to ${spec.max}`;
  return kind;
}

function renderWarnings(model: ModelDetail, warnings: string[]): HTMLElement | null {
  if (!warnings.length) return null;
  return h(
    "ul",
    { class: "warnings", "data-testid": `warnings-${model.name}` },
    ...warnings.map((warning) => h("li", { "data-testid": "warning" }, warning)),
  );
}

/** The record to send. Empty optional fields are null; empty required ones are left out,
 * so the backend names them as missing. */
function readRecord(
  inputs: InputSpec[],
  controls: Map<string, Control>,
): Record<string, Scalar | null> {
  const record: Record<string, Scalar | null> = {};
  for (const spec of inputs) {
    const control = controls.get(spec.name);
    if (!control) continue;
    const raw = spec.type === "text" ? control.value : control.value.trim();
    if (raw === EMPTY) {
      if (spec.nullable) record[spec.name] = null;
      continue;
    }
    if (spec.type === "category" || spec.type === "boolean") {
      const values: Scalar[] = spec.type === "boolean" ? [true, false] : (spec.values ?? []);
      record[spec.name] = values[Number(raw)] ?? null;
    } else if (spec.type === "text") {
      record[spec.name] = raw;
    } else {
      record[spec.name] = Number(raw);
    }
  }
  return record;
}

function renderPrediction(model: ModelDetail, prediction: Prediction): HTMLElement {
  if ("value" in prediction) {
    const unit = prediction.unit ?? model.output.unit;
    return h(
      "p",
      { class: "answer" },
      `${model.output.target}: `,
      h("strong", { "data-testid": `value-${model.name}` }, formatNumber(prediction.value)),
      unit ? h("span", { class: "unit", "data-testid": `unit-${model.name}` }, ` ${unit}`) : null,
    );
  }
  const probabilities = Object.entries(prediction.probabilities ?? {}).sort((a, b) => b[1] - a[1]);
  const bars = h("div", { class: "bars", "data-testid": `probabilities-${model.name}` });
  for (const [label, probability] of probabilities) {
    const percent = Math.max(0, Math.min(1, probability)) * 100;
    bars.append(
      h(
        "div",
        { class: "bar-row", "data-testid": "probability", "data-class": label },
        h("span", { class: "bar-label" }, label),
        h("span", { class: "bar-track" }, barFill(percent)),
        h("span", { class: "bar-value" }, `${percent.toFixed(1)} %`),
      ),
    );
  }
  return h(
    "div",
    {},
    h("p", { class: "answer" }, `${model.output.target}: `, h("strong", { "data-testid": `label-${model.name}` }, String(prediction.label))),
    probabilities.length ? bars : null,
  );
}

/** Width set through the CSSOM: the Content-Security-Policy allows no inline style attributes. */
function barFill(percent: number): HTMLElement {
  const fill = h("span", { class: "bar-fill" });
  fill.style.width = `${percent.toFixed(1)}%`;
  return fill;
}

function showFailure(err: unknown, errors: Map<string, HTMLElement>, formError: HTMLElement): void {
  if (err instanceof ApiError && err.status === 422 && Array.isArray(err.detail)) {
    const unplaced: string[] = [];
    for (const item of err.detail as FieldError[]) {
      const field = item.loc?.[item.loc.length - 1];
      const target = typeof field === "string" ? errors.get(field) : undefined;
      if (target) showMessage(target, appendMessage(target, item.msg));
      else unplaced.push(item.loc?.length ? `${item.loc.join(".")}: ${item.msg}` : item.msg);
    }
    showMessage(formError, unplaced.length ? unplaced.join("; ") : null);
  } else if (err instanceof UnreachableError) {
    showMessage(formError, `The backend did not answer: ${err.message}. Try again in a moment.`);
  } else if (err instanceof ApiError && err.status === 503) {
    showMessage(formError, `The backend is not ready: ${err.message}. Try again in a moment.`);
  } else {
    showMessage(formError, err instanceof Error ? err.message : String(err));
  }
}

function appendMessage(el: HTMLElement, msg: string): string {
  return el.hidden || !el.textContent ? msg : `${el.textContent}; ${msg}`;
}

/** Show or clear a message; a field's control is marked invalid and described by it. */
function showMessage(el: HTMLElement, text: string | null): void {
  el.textContent = text ?? "";
  el.hidden = text === null;
  const field = el.closest(".field");
  field?.classList.toggle("has-error", text !== null);
  const control = field?.querySelector("input, select, textarea");
  if (!control) return;
  const hintId = `${control.id}-hint`;
  if (text === null) {
    control.removeAttribute("aria-invalid");
    control.setAttribute("aria-describedby", hintId);
  } else {
    control.setAttribute("aria-invalid", "true");
    control.setAttribute("aria-describedby", `${hintId} ${el.id}`);
  }
}
