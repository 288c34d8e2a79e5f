import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planSteps } from '../../scripts/lib/reproduce/plan';
import { decodePng } from '../../src/images/png';
import { reproduce } from '../../scripts/reproduce';

// `npm run reproduce -- --quick`: every step of the plan (training, evaluation, tables, figure) on
// tiny settings, through the same npm commands a user runs. A few minutes on two cores.
describe('npm run reproduce --quick', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'ganql-reproduce-test-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('runs every step, writes the tables with no pending cell and the figure, and a second run redoes nothing', { timeout: 900_000 }, async () => {
    const steps = planSteps('quick');
    const lines: string[] = [];
    const first = await reproduce(['--quick', '--out', out, '--jobs', '2'], (l) => lines.push(l));

    expect([...first.results.keys()].sort()).toEqual(steps.map((s) => s.id).sort());
    for (const s of steps) expect(existsSync(path.join(out, 'results', `${s.id}.json`)), s.id).toBe(true);

    const doc = readFileSync(first.doc, 'utf8');
    const blocks = [...doc.matchAll(/<!-- reproduce:([\w-]+) -->([\s\S]*?)<!-- \/reproduce:\1 -->/g)];
    expect(blocks.map((b) => b[1]).sort()).toEqual(['gan-scores', 'kplusone-fashion-mnist', 'kplusone-mnist', 'nearest', 'parzen', 'shipped-models']);
    for (const [, name, body] of blocks) {
      // Label counts the quick plan does not train stay pending in Table 1; every other cell is filled.
      const rows = body.split('\n').filter((r) => r.startsWith('|') && !/^\|[-| ]+\|$/.test(r));
      const filled = rows.filter((r) => !/pending/.test(r));
      expect(filled.length, `${name}: ${body}`).toBeGreaterThan(1);
    }
    const figure = readFileSync(path.join(out, 'figures', 'kplusone-mnist-curve.svg'), 'utf8');
    expect(figure).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    expect(figure).toMatch(/<(polyline|path)\b/);
    for (const model of ['dcgan-mnist', 'dcgan-fashion-mnist', 'mnist-mlp-gan']) {
      expect(decodePng(readFileSync(path.join(out, 'figures', `${model}-nearest.png`))).width, model).toBe(8 * 28 + 9 * 2);
    }

    const again: string[] = [];
    const second = await reproduce(['--quick', '--out', out, '--jobs', '2'], (l) => again.push(l));
    expect(second.results.size).toBe(steps.length);
    expect(again.filter((l) => / done in \d+ s/.test(l) || /^[\w-]+: npm run /.test(l))).toEqual([]);
    expect(readFileSync(second.doc, 'utf8')).toBe(doc);
  });
});
