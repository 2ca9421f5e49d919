// A small inline-SVG line chart: one model's primary metric across releases, oldest first,
// with the gate drawn: the next release must land on the good side of the dashed line, and
// the shaded band between it and the live release (the filled point) is the tolerance the
// gate allows.
//
// The axis is scaled so the picture does not lie: with a tolerance, it spans at least four
// tolerances (a change well inside the tolerance looks small); without one, it starts at zero.
// Scores that cannot pass 1 (higher is better, all in [0, 1]) never show an axis above 1.

import { formatNumber, svg } from "./dom";

export interface Point {
  label: string;
  value: number;
}

export interface Gate {
  tolerance: number;
  higherIsBetter: boolean;
}

const HEIGHT = 210;
const PAD = { top: 24, right: 20, bottom: 30, left: 52 };
const MAX_VALUE_LABELS = 8;

/** The gate's line: what the next release must score at least (or at most). */
export function gateThreshold(reference: number, gate: Gate): number {
  return reference + (gate.higherIsBetter ? -gate.tolerance : gate.tolerance);
}

export function lineChart(
  points: Point[],
  { title, testid, gate, live, width = 360 }: { title: string; testid: string; gate?: Gate; live?: string; width?: number },
): SVGElement {
  const fullWidth = Math.max(240, Math.round(width)); // drawn at its display size: text stays legible
  const values = points.map((p) => p.value);
  const liveIndex = Math.max(0, live === undefined ? points.length - 1 : points.findIndex((p) => p.label === live));
  const reference = values[liveIndex] ?? values[values.length - 1];
  const threshold =
    gate && gate.tolerance > 0 && reference !== undefined
      ? gateThreshold(reference, gate)
      : undefined;
  const { low, high, ticks } = axis(values, threshold, gate);

  const innerW = fullWidth - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (points.length === 1 ? innerW / 2 : (i * innerW) / (points.length - 1));
  const y = (v: number) => PAD.top + innerH - ((v - low) / (high - low)) * innerH;

  const chart = svg("svg", {
    viewBox: `0 0 ${fullWidth} ${HEIGHT}`,
    role: "img",
    "aria-label": title,
    class: "chart",
    "data-testid": testid,
    "data-axis-low": low,
    "data-axis-high": high,
  });
  chart.append(svg("title", {}, title));
  for (const tick of ticks) {
    chart.append(svg("line", { x1: PAD.left, y1: y(tick), x2: fullWidth - PAD.right, y2: y(tick), class: "grid" }));
    chart.append(svg("text", { x: PAD.left - 7, y: y(tick) + 4, "text-anchor": "end", class: "tick" }, formatNumber(tick)));
  }
  if (threshold !== undefined && reference !== undefined) {
    const top = Math.min(y(reference), y(threshold));
    chart.append(
      svg("rect", { x: PAD.left, y: top, width: innerW, height: Math.abs(y(reference) - y(threshold)), class: "band", "data-testid": "tolerance-band" }),
      svg("line", { x1: PAD.left, y1: y(threshold), x2: fullWidth - PAD.right, y2: y(threshold), class: "gate", "data-testid": "gate-line", "data-value": threshold }),
    );
  }
  const axisY = PAD.top + innerH;
  chart.append(svg("line", { x1: PAD.left, y1: axisY, x2: fullWidth - PAD.right, y2: axisY, class: "axis" }));
  chart.append(svg("line", { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: axisY, class: "axis" }));
  if (points.length > 1) {
    const path = points.map((p, i) => `${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ");
    chart.append(svg("polyline", { points: path, class: "line" }));
  }
  const labelled = labelledPoints(values);
  const labelEvery = Math.ceil(points.length / 8);
  points.forEach((p, i) => {
    const dot = svg("circle", {
      cx: x(i).toFixed(1),
      cy: y(p.value).toFixed(1),
      r: 4,
      class: i === liveIndex && live !== undefined ? "point point-live" : "point",
      "data-testid": "chart-point",
      "data-release": p.label,
      "data-value": p.value,
    });
    dot.append(svg("title", {}, `${p.label}: ${formatNumber(p.value)}`));
    chart.append(dot);
    if (labelled.has(i)) {
      const nearTop = y(p.value) < 16;
      chart.append(
        svg(
          "text",
          { x: x(i), y: y(p.value) + (nearTop ? 17 : -9), "text-anchor": anchor(i, points.length), class: "value", "data-testid": "point-label" },
          formatNumber(p.value),
        ),
      );
    }
    if (i % labelEvery === 0 || i === points.length - 1) {
      chart.append(svg("text", { x: x(i), y: HEIGHT - 9, "text-anchor": anchor(i, points.length), class: "tick" }, p.label));
    }
  });
  return chart;
}

/** The first and last labels hug the chart's edges, so they are never cut off. */
function anchor(i: number, count: number): string {
  if (count > 1 && i === 0) return "start";
  if (count > 1 && i === count - 1) return "end";
  return "middle";
}

/** Every point when there are few; else the first, the last, the best and the worst. */
function labelledPoints(values: number[]): Set<number> {
  if (values.length <= MAX_VALUE_LABELS) return new Set(values.map((_, i) => i));
  const indexOf = (v: number) => values.indexOf(v);
  return new Set([0, values.length - 1, indexOf(Math.min(...values)), indexOf(Math.max(...values))]);
}

/** The axis range and its ticks (1, 2 or 5 times a power of ten apart). */
export function axis(values: number[], threshold: number | undefined, gate: Gate | undefined): { low: number; high: number; ticks: number[] } {
  const shown = threshold === undefined ? values : [...values, threshold];
  let low = Math.min(...shown);
  let high = Math.max(...shown);
  const tolerance = gate?.tolerance ?? 0;
  if (tolerance > 0) {
    const span = Math.max(high - low, 4 * tolerance) * 1.2;
    const middle = (low + high) / 2;
    [low, high] = [middle - span / 2, middle + span / 2];
  } else {
    low = Math.min(0, low);
    high = high > 0 ? high * 1.1 : high + 1;
  }
  const step = niceStep((high - low) / 4);
  low = Math.floor(low / step) * step;
  high = Math.ceil(high / step) * step;
  const nonNegative = values.every((v) => v >= 0);
  if (nonNegative && low < 0) [low, high] = [0, high - low];
  const unitScore = (gate?.higherIsBetter ?? false) && values.every((v) => v >= 0 && v <= 1);
  if (unitScore && high > 1) [low, high] = [Math.max(0, low - (high - 1)), 1];
  const ticks: number[] = [];
  for (let tick = low; tick <= high + step / 2; tick += step) ticks.push(Number(tick.toPrecision(12)));
  return { low, high, ticks };
}

function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(rough));
  const fraction = rough / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}
