// @ts-check
// A small SVG line plot: several series, nice axis ticks, a legend, optional error bars, an index or
// time x axis. No library; the caller passes the pixel width it has, so text stays readable at 375 px.

const SVG = 'http://www.w3.org/2000/svg';

// Colour-blind-safe (Okabe-Ito), dark enough on white for 3:1 line contrast.
const COLOURS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#7a5c00', '#56b4e9', '#000000'];

let nextId = 0;

/**
 * @typedef {{ x: number, y: number, err?: number }} Point  x: an index, or ms since 1970 for a time axis;
 *   err: half the error bar (e.g. a standard deviation), drawn as y - err .. y + err.
 * @typedef {{ name: string, points: Point[], color?: string }} Series
 * @typedef {{
 *   series: Series[],
 *   title: string,             // the <title> and the accessible name
 *   width?: number,            // pixels; default 640 (pass the container's width)
 *   height?: number,           // pixels; default 240
 *   xType?: 'index' | 'time',  // default 'index'
 *   xLabel?: string,
 *   yLabel?: string,
 *   yMin?: number,             // force the y range to include this value (e.g. 0)
 *   format?: (y: number) => string, // y values in the description and point titles
 * }} PlotOptions
 * @typedef {PlotOptions & { width: number, height: number, xType: 'index' | 'time' }} CheckedOptions
 * @typedef {Series & { color: string }} ColouredSeries
 * @typedef {{ values: number[], step: number, labels: string[] }} Ticks
 */

/**
 * Draws the series as an <svg role="img"> with a <title> and a <desc> naming each series' last value.
 * @param {PlotOptions} options
 * @returns {SVGElement}
 */
export function linePlot(options) {
  const o = checkOptions(options);
  const id = `plot-${++nextId}`;
  const fontSize = 12;
  const series = o.series.map((s, i) => ({ ...s, color: s.color ?? COLOURS[i % COLOURS.length], points: s.points.filter(isFinitePoint) }));
  const all = series.flatMap((s) => s.points);

  const svg = node('svg', {
    class: 'plot',
    width: o.width,
    height: o.height,
    viewBox: `0 0 ${o.width} ${o.height}`,
    role: 'img',
    'aria-labelledby': `${id}-title ${id}-desc`,
    'font-size': fontSize,
  });
  svg.append(node('title', { id: `${id}-title` }, o.title), node('desc', { id: `${id}-desc` }, describe(series, o)));

  // Legend rows first: their height decides where the plot area starts.
  const legend = layoutLegend(series, o.width - 16, fontSize);
  const top = 8 + legend.height + 6;
  const yRange = all.length ? extent(all.flatMap((p) => [p.y - (p.err ?? 0), p.y + (p.err ?? 0)]).concat(o.yMin ?? [])) : [0, 1];
  const plotHeight = Math.max(40, o.height - top - (o.xLabel ? 44 : 28));
  const yTicks = niceTicks(yRange[0], yRange[1], Math.max(2, Math.min(6, Math.floor(plotHeight / 32))));
  const yText = yTicks.values.map((v) => formatNumber(v, yTicks.step));
  const left = 10 + (o.yLabel ? fontSize + 6 : 0) + Math.max(...yText.map((t) => textWidth(t, fontSize)));
  const right = o.width - 14;
  const bottom = top + plotHeight;
  const plotWidth = Math.max(40, right - left);

  const xRange = all.length ? extent(all.map((p) => p.x)) : [0, 1];
  const maxXTicks = Math.max(2, Math.floor(plotWidth / (o.xType === 'time' ? 90 : 56)));
  const xTicks = o.xType === 'time' ? timeTicks(xRange[0], xRange[1], maxXTicks) : niceTicks(xRange[0], xRange[1], maxXTicks, true);
  const [x0, x1] = [xTicks.values[0], xTicks.values[xTicks.values.length - 1]];
  const [y0, y1] = [yTicks.values[0], yTicks.values[yTicks.values.length - 1]];
  /** @param {number} x */
  const sx = (x) => left + (x1 === x0 ? plotWidth / 2 : ((x - x0) / (x1 - x0)) * plotWidth);
  /** @param {number} y */
  const sy = (y) => bottom - (y1 === y0 ? plotHeight / 2 : ((y - y0) / (y1 - y0)) * plotHeight);

  // Legend.
  const legendGroup = node('g', { class: 'plot-legend' });
  for (const item of legend.items) {
    const g = node('g', { transform: `translate(${8 + item.x} ${8 + item.y})` });
    g.append(
      node('line', { x1: 0, x2: 16, y1: fontSize / 2, y2: fontSize / 2, stroke: item.color, 'stroke-width': 3 }),
      node('text', { x: 21, y: fontSize - 1, fill: 'currentColor' }, item.name),
    );
    legendGroup.append(g);
  }
  svg.append(legendGroup);

  // Axes and grid.
  const axes = node('g', { class: 'plot-axes', 'aria-hidden': 'true' });
  yTicks.values.forEach((v, i) => {
    const y = round(sy(v));
    axes.append(
      node('line', { x1: left, x2: right, y1: y, y2: y, class: 'plot-grid', stroke: '#d0d4da', 'stroke-width': 1 }),
      node('text', { x: left - 6, y: y + 4, 'text-anchor': 'end', fill: 'currentColor' }, yText[i]),
    );
  });
  xTicks.values.forEach((v, i) => {
    const x = round(sx(v));
    axes.append(
      node('line', { x1: x, x2: x, y1: bottom, y2: bottom + 4, stroke: '#6b7280' }),
      node(
        'text',
        {
          x,
          y: bottom + 17,
          'text-anchor': i === 0 && xTicks.values.length > 1 ? 'start' : i === xTicks.values.length - 1 && xTicks.values.length > 1 ? 'end' : 'middle',
          fill: 'currentColor',
        },
        xTicks.labels[i],
      ),
    );
  });
  axes.append(
    node('line', { x1: left, x2: right, y1: bottom, y2: bottom, stroke: '#6b7280' }),
    node('line', { x1: left, x2: left, y1: top, y2: bottom, stroke: '#6b7280' }),
  );
  if (o.xLabel) axes.append(node('text', { x: left + plotWidth / 2, y: o.height - 6, 'text-anchor': 'middle', fill: 'currentColor' }, o.xLabel));
  if (o.yLabel)
    axes.append(
      node(
        'text',
        { x: 0, y: 0, transform: `translate(${fontSize} ${top + plotHeight / 2}) rotate(-90)`, 'text-anchor': 'middle', fill: 'currentColor' },
        o.yLabel,
      ),
    );
  svg.append(axes);

  if (!all.length) {
    svg.append(
      node('text', { x: left + plotWidth / 2, y: top + plotHeight / 2, 'text-anchor': 'middle', fill: 'currentColor', class: 'plot-empty' }, 'No data yet'),
    );
    return svg;
  }

  // Series: error bars, then the line, then point markers (with a <title> each, a tooltip on hover).
  const format = o.format ?? ((/** @type {number} */ y) => formatNumber(y, 0));
  series.forEach((s, index) => {
    const g = node('g', { class: 'plot-series', 'data-series': s.name, 'data-points': s.points.length });
    const cap = 4;
    for (const p of s.points) {
      if (!p.err) continue;
      const [x, ya, yb] = [round(sx(p.x)), round(sy(p.y - p.err)), round(sy(p.y + p.err))];
      g.append(
        node('path', {
          class: 'plot-error',
          d: `M${x - cap} ${ya}H${x + cap}M${x} ${ya}V${yb}M${x - cap} ${yb}H${x + cap}`,
          stroke: s.color,
          'stroke-width': 1.5,
          fill: 'none',
        }),
      );
    }
    if (s.points.length > 1) {
      const d = s.points.map((p, i) => `${i ? 'L' : 'M'}${round(sx(p.x))} ${round(sy(p.y))}`).join('');
      g.append(node('path', { class: 'plot-line', d, stroke: s.color, 'stroke-width': 2, fill: 'none', 'stroke-dasharray': index % 2 ? '6 3' : null }));
    }
    // Markers for sparse series (and always for a single point, which has no line).
    if (s.points.length <= 60) {
      for (const p of s.points) {
        const mark = node('circle', { class: 'plot-point', cx: round(sx(p.x)), cy: round(sy(p.y)), r: 3.5, fill: s.color });
        const xText = o.xType === 'time' ? new Date(p.x).toLocaleString() : String(p.x);
        mark.append(node('title', {}, `${s.name} at ${xText}: ${format(p.y)}${p.err ? ` \u00b1 ${format(p.err)}` : ''}`));
        g.append(mark);
      }
    }
    svg.append(g);
  });
  return svg;
}

/**
 * @param {PlotOptions} options
 * @returns {CheckedOptions}
 */
function checkOptions(options) {
  if (!options || !Array.isArray(options.series)) throw new TypeError(`linePlot: expected options with a series array, got ${JSON.stringify(options)}`);
  if (typeof options.title !== 'string' || options.title === '') throw new TypeError(`linePlot: expected a title, got ${JSON.stringify(options.title)}`);
  const width = options.width ?? 640;
  const height = options.height ?? 240;
  if (!(width >= 120) || !(height >= 100)) throw new RangeError(`linePlot: expected width >= 120 and height >= 100, got ${width} x ${height}`);
  const xType = options.xType ?? 'index';
  if (xType !== 'index' && xType !== 'time') throw new RangeError(`linePlot: expected xType "index" or "time", got ${JSON.stringify(xType)}`);
  return { ...options, width: Math.floor(width), height: Math.floor(height), xType };
}

/** @param {Point} p */
function isFinitePoint(p) {
  return Number.isFinite(p.x) && Number.isFinite(p.y) && (p.err === undefined || p.err === null || Number.isFinite(p.err));
}

/**
 * @param {ColouredSeries[]} series
 * @param {CheckedOptions} o
 */
function describe(series, o) {
  const format = o.format ?? ((/** @type {number} */ y) => formatNumber(y, 0));
  const parts = series.map((s) => {
    if (!s.points.length) return `${s.name}: no points`;
    const last = s.points[s.points.length - 1];
    return `${s.name}: ${s.points.length} point${s.points.length === 1 ? '' : 's'}, latest ${format(last.y)}${last.err ? ` \u00b1 ${format(last.err)}` : ''}`;
  });
  return `${o.yLabel ? `${o.yLabel} over ${o.xLabel ?? (o.xType === 'time' ? 'time' : 'index')}. ` : ''}${parts.join('; ')}.`;
}

/**
 * @param {ColouredSeries[]} series
 * @param {number} maxWidth
 * @param {number} fontSize
 */
function layoutLegend(series, maxWidth, fontSize) {
  /** @type {Array<{ name: string, color: string, x: number, y: number }>} */
  const items = [];
  let [x, y] = [0, 0];
  for (const s of series) {
    const w = 21 + textWidth(s.name, fontSize) + 16;
    if (x > 0 && x + w > maxWidth) [x, y] = [0, y + fontSize + 6];
    items.push({ name: s.name, color: s.color, x, y });
    x += w;
  }
  return { items, height: series.length ? y + fontSize + 2 : 0 };
}

/**
 * An estimate of a text's width in a sans-serif font (no layout pass needed to place labels).
 * @param {string} text
 * @param {number} fontSize
 */
function textWidth(text, fontSize) {
  return Math.ceil(String(text).length * fontSize * 0.6);
}

/**
 * @param {number[]} values
 * @returns {[number, number]}
 */
function extent(values) {
  let [lo, hi] = [Infinity, -Infinity];
  for (const v of values) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  return [lo, hi];
}

/**
 * Ticks at 1, 2 or 5 x 10^k covering [lo, hi] (Heckbert's nice numbers).
 * @param {number} lo
 * @param {number} hi
 * @param {number} maxTicks
 * @returns {Ticks}
 */
export function niceTicks(lo, hi, maxTicks, integers = false) {
  if (lo === hi) [lo, hi] = lo === 0 ? [0, 1] : [lo - Math.abs(lo) * 0.1, hi + Math.abs(hi) * 0.1];
  let step = niceStep((hi - lo) / Math.max(1, maxTicks - 1));
  if (integers) step = Math.max(1, Math.round(step));
  // Rounding the ends outwards can add a tick: take the next nice step while there are too many.
  while (Math.round(Math.ceil(hi / step) - Math.floor(lo / step) + 1) > Math.max(2, maxTicks)) step = niceStep(step * 1.01);
  const start = Math.floor(lo / step) * step;
  const end = Math.ceil(hi / step) * step;
  /** @type {number[]} */
  const values = [];
  for (let v = start; v <= end + step * 1e-9; v += step) values.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return { values, step, labels: values.map((v) => formatNumber(v, step)) };
}

/** @param {number} raw */
function niceStep(raw) {
  const exponent = Math.floor(Math.log10(raw));
  const fraction = raw / 10 ** exponent;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * 10 ** exponent;
}

const TIME_STEPS = [
  1e3,
  5e3,
  15e3,
  30e3,
  60e3,
  5 * 60e3,
  15 * 60e3,
  30 * 60e3,
  3600e3,
  3 * 3600e3,
  6 * 3600e3,
  12 * 3600e3,
  86400e3,
  2 * 86400e3,
  7 * 86400e3,
  30 * 86400e3,
];

/**
 * Ticks at round seconds, minutes, hours or days (local time) covering [lo, hi] ms.
 * @param {number} lo
 * @param {number} hi
 * @param {number} maxTicks
 * @returns {Ticks}
 */
export function timeTicks(lo, hi, maxTicks) {
  if (hi - lo < 1e3) [lo, hi] = [lo - 30e3, hi + 30e3];
  const offset = new Date(lo).getTimezoneOffset() * 60e3;
  const count = (/** @type {number} */ s) => Math.ceil((hi - offset) / s) - Math.floor((lo - offset) / s) + 1;
  const step = TIME_STEPS.find((s) => count(s) <= Math.max(2, maxTicks)) ?? 30 * 86400e3;
  const start = Math.floor((lo - offset) / step) * step + offset;
  const end = Math.ceil((hi - offset) / step) * step + offset;
  /** @type {number[]} */
  const values = [];
  for (let v = start; v <= end; v += step) values.push(v);
  const sameDay = new Date(start).toDateString() === new Date(end).toDateString();
  const labels = values.map((v) => {
    const d = new Date(v);
    const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}${step < 60e3 ? `:${pad(d.getSeconds())}` : ''}`;
    if (step >= 86400e3) return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
    return sameDay ? hm : `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hm}`;
  });
  return { values, step, labels };
}

/** @param {number} n */
function pad(n) {
  return String(n).padStart(2, '0');
}

/**
 * A number with as many decimals as the tick step needs (step 0: three significant digits).
 * @param {number} value
 * @param {number} step
 */
export function formatNumber(value, step) {
  if (!Number.isFinite(value)) return String(value);
  if (step > 0) {
    const decimals = Math.max(0, Math.min(8, -Math.floor(Math.log10(step) + 1e-9)));
    return value.toFixed(decimals);
  }
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1000 || magnitude < 0.001) return value.toExponential(2);
  return value.toPrecision(3);
}

/** @param {number} v */
function round(v) {
  return Math.round(v * 10) / 10;
}

/**
 * @param {string} tag
 * @param {Record<string, string | number | null | undefined>} attributes
 * @param {string} [text]
 */
function node(tag, attributes, text) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== null && value !== undefined) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}
