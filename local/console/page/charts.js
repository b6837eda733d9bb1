// The session hit rate over time, drawn by uPlot.

import htm from 'htm';
import { h } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

const html = htm.bind(h);

const OPTIONS = {
  width: 640,
  height: 220,
  scales: { x: { time: true }, rate: { range: [0, 100] } },
  axes: [{}, { scale: 'rate', values: (_, ticks) => ticks.map((t) => `${t}%`) }],
  series: [
    {},
    { label: 'Hit rate', scale: 'rate', stroke: '#0073bb', width: 2, points: { show: true } },
    { label: 'Acquisitions', stroke: '#aab7b8', show: false },
  ],
};

export function HitRateChart({ buckets }) {
  const target = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const data = [
      buckets.map((b) => b.start / 1000),
      buckets.map((b) => Math.round((100 * b.hits) / (b.hits + b.misses))),
      buckets.map((b) => b.hits + b.misses),
    ];
    if (plot.current) plot.current.setData(data);
    else plot.current = new uPlot(OPTIONS, data, target.current);
    // At least the last ten minutes, so that a few buckets do not stretch over years.
    const now = Date.now() / 1000;
    plot.current.setScale('x', { min: Math.min(data[0][0] ?? now, now - 600), max: now + 30 });
  }, [buckets]);
  useEffect(() => () => plot.current?.destroy(), []);
  return html`<div class="chart" ref=${target} aria-label="Session hit rate over time"></div>`;
}
