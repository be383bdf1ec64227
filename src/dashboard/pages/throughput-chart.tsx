// Jobs finished per second over the last minutes, drawn by uPlot (created once, fed new data).
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Throughput } from '../api/types';

const series = [
  { key: 'completed', label: 'completed/s', stroke: '#2e8b57', fill: 'rgba(46,139,87,0.15)' },
  { key: 'failed', label: 'failed/s', stroke: '#c0392b', fill: 'rgba(192,57,43,0.12)' },
  { key: 'cancelled', label: 'cancelled/s', stroke: '#8a93a6', fill: 'rgba(138,147,166,0.1)' },
] as const;

function chartData(stats: Throughput): uPlot.AlignedData {
  const per = Math.max(1, stats.bucketSeconds);
  return [
    stats.buckets.map((bucket) => Date.parse(bucket.at) / 1000),
    ...series.map(({ key }) => stats.buckets.map((bucket) => bucket[key] / per)),
  ];
}

/** A one-line reading of the chart, for screen readers and for a glance. */
function summary(stats: Throughput): string {
  const per = Math.max(1, stats.bucketSeconds);
  const total = stats.buckets.reduce((sum, b) => sum + b.completed + b.failed + b.cancelled, 0);
  const seconds = stats.buckets.length * per;
  const last = stats.buckets.at(-1);
  const lastRate = last ? (last.completed + last.failed + last.cancelled) / per : 0;
  const rate = (n: number): string => (n === 0 ? '0' : n < 0.01 ? n.toPrecision(1) : n.toFixed(2));
  return `${total} jobs finished in the last ${Math.round(seconds / 60)} min (average ${rate(total / Math.max(1, seconds))}/s, latest bucket ${rate(lastRate)}/s)`;
}

export function ThroughputChart({ stats }: { stats: Throughput | undefined }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const axis = { stroke: '#8a93a6', grid: { stroke: 'rgba(138,147,166,0.2)' }, ticks: { stroke: 'rgba(138,147,166,0.3)' } };
    const chart = new uPlot(
      {
        width: Math.max(200, element.clientWidth),
        height: 200,
        legend: { live: false },
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [axis, { ...axis, size: 50 }],
        series: [{}, ...series.map(({ label, stroke, fill }) => ({ label, stroke, fill, width: 2, points: { show: false } }))],
      },
      [[], [], [], []],
      element,
    );
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(200, element.clientWidth), height: 200 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    if (stats) plot.current?.setData(chartData(stats));
  }, [stats]);

  return (
    <figure class="chart" data-testid="throughput-chart">
      <div ref={box} role="img" aria-label={stats ? summary(stats) : 'Throughput chart, loading'} />
      <figcaption class="muted">{stats ? summary(stats) : 'Loading…'}</figcaption>
    </figure>
  );
}
