import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** A chart the bench draws: a Vega-Lite spec and the SVG file it becomes. */
export interface Chart {
  file: string;
  spec: TopLevelSpec;
}

/** The look every chart shares: plain sans-serif text, no border around the plot. */
export const CHART_CONFIG: TopLevelSpec['config'] = {
  font: 'Helvetica, Arial, sans-serif',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridOpacity: 0.4 },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: 'right', labelLimit: 400 },
  title: { fontSize: 14, subtitleFontSize: 11, anchor: 'start' },
};

/**
 * Vega-Lite compiled to Vega and rendered to SVG in this process: the `none` renderer needs no
 * canvas or browser (text widths are estimated), so the bench draws its charts offline.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Writes each chart into `dir` (made if missing) and returns the paths written. */
export async function writeCharts(dir: string, charts: readonly Chart[]): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const chart of charts) {
    const path = join(dir, chart.file);
    await writeFile(path, `${await renderSvg(chart.spec)}\n`);
    written.push(path);
  }
  return written;
}
