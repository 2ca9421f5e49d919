// A small inline-SVG line chart: one model's primary metric across releases, oldest first.

import { formatNumber, svg } from "./dom";

export interface Point {
  label: string;
  value: number;
}

const WIDTH = 320;
const HEIGHT = 140;
const PAD = { top: 16, right: 16, bottom: 28, left: 52 };

export function lineChart(points: Point[], { title, testid }: { title: string; testid: string }): SVGElement {
  const values = points.map((p) => p.value);
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (low === high) {
    const margin = Math.abs(low) * 0.05 || 0.05;
    low -= margin;
    high += margin;
  }
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (points.length === 1 ? innerW / 2 : (i * innerW) / (points.length - 1));
  const y = (v: number) => PAD.top + innerH - ((v - low) / (high - low)) * innerH;

  const chart = svg("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    width: WIDTH,
    height: HEIGHT,
    role: "img",
    "aria-label": title,
    class: "chart",
    "data-testid": testid,
  });
  chart.append(svg("title", {}, title));
  const axisY = PAD.top + innerH;
  chart.append(svg("line", { x1: PAD.left, y1: axisY, x2: WIDTH - PAD.right, y2: axisY, class: "axis" }));
  chart.append(svg("line", { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: axisY, class: "axis" }));
  for (const v of [low, high]) {
    chart.append(svg("text", { x: PAD.left - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, formatNumber(v)));
  }
  if (points.length > 1) {
    const path = points.map((p, i) => `${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ");
    chart.append(svg("polyline", { points: path, class: "line" }));
  }
  points.forEach((p, i) => {
    const dot = svg("circle", {
      cx: x(i).toFixed(1),
      cy: y(p.value).toFixed(1),
      r: 4,
      class: "point",
      "data-testid": "chart-point",
      "data-release": p.label,
      "data-value": p.value,
    });
    dot.append(svg("title", {}, `${p.label}: ${formatNumber(p.value)}`));
    chart.append(dot);
    chart.append(svg("text", { x: x(i), y: HEIGHT - 8, "text-anchor": "middle", class: "tick" }, p.label));
  });
  return chart;
}
