// Charts for bench results: a Vega-Lite spec rendered to SVG in-process (no browser,
// no canvas), written next to the scenario's JSON.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface LineChart {
  title: string;
  /** One object per point; `x`, `y` and `series` name its fields. */
  points: ReadonlyArray<Record<string, number | string>>;
  x: { field: string; title: string; log?: boolean };
  y: { field: string; title: string; log?: boolean };
  /** A line per distinct value of this field. */
  series?: string;
  /** Horizontal lines drawn across, e.g. a target. */
  rules?: ReadonlyArray<{ y: number; label: string }>;
}

function spec(chart: LineChart): TopLevelSpec {
  const scale = (log?: boolean) => (log ? { type: 'log' as const } : { zero: true });
  const line = {
    mark: { type: 'line' as const, point: true },
    encoding: {
      x: { field: chart.x.field, type: 'quantitative' as const, title: chart.x.title, scale: scale(chart.x.log) },
      y: { field: chart.y.field, type: 'quantitative' as const, title: chart.y.title, scale: scale(chart.y.log) },
      ...(chart.series ? { color: { field: chart.series, type: 'nominal' as const, title: null } } : {}),
    },
  };
  const rules = (chart.rules ?? []).map((rule) => ({
    data: { values: [rule] },
    layer: [
      { mark: { type: 'rule' as const, strokeDash: [4, 4], color: '#b00' }, encoding: { y: { field: 'y', type: 'quantitative' as const } } },
      {
        mark: { type: 'text' as const, align: 'left' as const, dx: 4, dy: -6, color: '#b00' },
        encoding: { y: { field: 'y', type: 'quantitative' as const }, x: { value: 0 }, text: { field: 'label' } },
      },
    ],
  }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: chart.title,
    width: 560,
    height: 280,
    data: { values: chart.points as Array<Record<string, number | string>> },
    layer: [line, ...rules],
  } as TopLevelSpec;
}

/** Renders the chart to `<dir>/<name>.svg`; returns the file's path. */
export async function writeLineChart(dir: string, name: string, chart: LineChart): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec(chart)).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const file = path.join(dir, `${name}.svg`);
  writeFileSync(file, svg);
  return file;
}
