// @ts-check
// Evaluation: per model version, Inception Score (mean +- std), FID and KID of its stored evaluations
// over time, and a button that runs a new evaluation with its progress, then adds it to the plots.
import { ApiError, gql, onApiKeyChange } from '../lib/api.js';
import { busy, clearError, el, showError } from '../lib/ui.js';
import { linePlot } from '../lib/plot.js';
/** @import { PlotOptions } from '../lib/plot.js' */

const EVALUATION =
  'runId modelId createdAt scorer samples seed splits metrics inceptionScore { mean std } fid kid { mean std subsetSize subsets } parzen { mean stdErr }';
/**
 * @typedef {{
 *   runId: string, modelId: string, createdAt: string, scorer: string, samples: number, seed: number, splits: number, metrics: string[],
 *   inceptionScore: { mean: number, std: number } | null, fid: number | null,
 *   kid: { mean: number, std: number, subsetSize: number, subsets: number } | null, parzen: { mean: number, stdErr: number } | null,
 * }} Evaluation
 * @typedef {{ id: string, status: string, progress: number | null, errorCode: string | null, errorMessage: string | null }} RunState
 */
/** @type {ReadonlyArray<[value: string, label: string, checked: boolean]>} */
const METRICS = [
  ['INCEPTION_SCORE', 'Inception Score', true],
  ['FID', 'FID', true],
  ['KID', 'KID', true],
  ['PARZEN', 'Parzen log-likelihood', false],
];
// How often the run's progress is read while it runs.
const POLL_MS = 400;

/** @param {HTMLElement} root */
export function mount(root) {
  let stopped = false;
  let timer = 0;
  /** @type {Evaluation[]} */
  let evaluations = [];

  const modelSelect = el('select', { id: 'eval-model', name: 'modelId' }, el('option', { value: '' }, 'Loading versions\u2026'));
  const pageErrors = el('div', { class: 'errors' });
  const plots = el('div', { class: 'eval-plots' });
  const tableBody = el('tbody');
  const table = el(
    'table',
    { class: 'eval-table' },
    el('caption', { class: 'visually-hidden' }, 'Stored evaluations, newest first'),
    el('thead', {}, el('tr', {}, ...['When', 'Samples', 'Seed', 'Splits', 'Scorer', 'IS', 'FID', 'KID'].map((t) => el('th', { scope: 'col' }, t)))),
    tableBody,
  );

  // The run form.
  const checks = METRICS.map(([value, label, checked]) => {
    const box = el('input', { type: 'checkbox', name: 'metrics', value, id: `eval-m-${value}` });
    box.checked = checked;
    return { value, box, node: el('div', { class: 'check' }, box, el('label', { for: box.id }, label)) };
  });
  /**
   * @param {string} id
   * @param {string} name
   * @param {string} value
   * @param {Record<string, string>} [attrs]
   */
  const number = (id, name, value, attrs) => {
    const input = el('input', { type: 'number', id, name, inputmode: 'numeric', ...attrs });
    input.value = value;
    return input;
  };
  const samples = number('eval-samples', 'samples', '1000', { min: '100', max: '50000', step: '100', 'aria-describedby': 'eval-samples-hint' });
  const splits = number('eval-splits', 'splits', '10', { min: '1', max: '50' });
  const seed = number('eval-seed', 'seed', '0', { min: '0' });
  const scorer = el('select', { id: 'eval-scorer', name: 'scorer' }, el('option', { value: '' }, 'Default for the dataset'));
  const runButton = el('button', { type: 'submit' }, 'Run evaluation');
  const runErrors = el('div', { class: 'errors' });
  const bar = el('progress', { max: '1', value: '0', 'aria-labelledby': 'eval-progress-text' });
  const barText = el('span', { id: 'eval-progress-text', class: 'progress-text' });
  const progress = el('div', { class: 'progress', hidden: '' }, bar, barText);
  const live = el('p', { class: 'visually-hidden', 'aria-live': 'polite' });
  const form = el(
    'form',
    { class: 'eval-form', novalidate: '' },
    el('fieldset', { class: 'eval-metrics' }, el('legend', {}, 'Metrics'), ...checks.map((c) => c.node)),
    el(
      'div',
      { class: 'field-grid' },
      el(
        'div',
        { class: 'field' },
        el('label', { for: samples.id }, 'Samples'),
        samples,
        el('small', { id: 'eval-samples-hint', class: 'muted' }, '100..50000 (the paper: 50000)'),
      ),
      el('div', { class: 'field' }, el('label', { for: splits.id }, 'IS splits'), splits),
      el('div', { class: 'field' }, el('label', { for: seed.id }, 'Seed'), seed),
      el('div', { class: 'field' }, el('label', { for: scorer.id }, 'Scorer'), scorer),
    ),
    runErrors,
    el('div', { class: 'row' }, runButton),
    progress,
    live,
  );

  root.append(
    el(
      'div',
      { class: 'page evaluation' },
      el('h1', { tabindex: '-1' }, 'Evaluation'),
      el(
        'p',
        { class: 'muted' },
        'Scores of a model version on samples from fixed seeded noise: Inception Score (higher is better), FID and KID against the training split (lower is better). Running one needs a key with the train scope.',
      ),
      el('div', { class: 'field eval-model' }, el('label', { for: modelSelect.id }, 'Model version'), modelSelect),
      pageErrors,
      el('section', { class: 'panel eval-history', 'aria-labelledby': 'eval-history-h' }, el('h2', { id: 'eval-history-h' }, 'Scores over time'), plots),
      el(
        'div',
        { class: 'eval-layout' },
        el('section', { class: 'panel eval-run', 'aria-labelledby': 'eval-run-h' }, el('h2', { id: 'eval-run-h' }, 'Run an evaluation'), form),
        el(
          'section',
          { class: 'panel eval-stored', 'aria-labelledby': 'eval-table-h' },
          el('h2', { id: 'eval-table-h' }, 'Stored evaluations'),
          el('div', { class: 'table-scroll' }, table),
        ),
      ),
    ),
  );

  modelSelect.addEventListener('change', () => void loadEvaluations());
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearError(runErrors);
    void busy(runButton, runEvaluation);
  });

  async function loadModels() {
    try {
      const data =
        /** @type {{ models: Array<{ id: string, architecture: string, dataset: string, latentSize: number | null, aliases: string[] }>, scorers: Array<{ name: string, dataset: string }> }} */ (
          await gql('query EvalModels { models { id architecture dataset latentSize aliases } scorers { name dataset } }')
        );
      // The evaluation scores samples: a version without a generator (latentSize null) has none.
      const generating = data.models.filter((m) => m.latentSize !== null);
      modelSelect.replaceChildren(...generating.map((m) => el('option', { value: m.id }, `${m.id} (${m.architecture}, ${m.dataset})`)));
      scorer.replaceChildren(
        el('option', { value: '' }, 'Default for the dataset'),
        ...data.scorers.map((s) => el('option', { value: s.name }, `${s.name} (${s.dataset})`)),
      );
      // Start on the server's default version, else on a DCGAN: K+1 models are classifiers first, and the list puts them anywhere.
      const start = generating.find((m) => m.aliases.includes('default')) ?? generating.find((m) => m.architecture === 'dcgan');
      if (start) modelSelect.value = start.id;
      await loadEvaluations();
    } catch (err) {
      modelSelect.replaceChildren(el('option', { value: '' }, 'No versions'));
      showError(pageErrors, err);
    }
  }

  async function loadEvaluations() {
    clearError(pageErrors);
    const modelId = modelSelect.value;
    if (!modelId) return;
    try {
      const data = /** @type {{ evaluations: Evaluation[] }} */ (
        await gql(`query Evaluations($m: ID) { evaluations(modelId: $m, first: 100) { ${EVALUATION} } }`, { m: modelId })
      );
      if (stopped || modelSelect.value !== modelId) return;
      evaluations = data.evaluations;
    } catch (err) {
      evaluations = [];
      showError(pageErrors, err);
    }
    render();
  }

  async function runEvaluation() {
    const metrics = checks.filter((c) => c.box.checked).map((c) => c.value);
    const variables = {
      modelId: modelSelect.value || null,
      metrics,
      samples: Number(samples.value),
      splits: Number(splits.value),
      seed: Number(seed.value),
      scorer: scorer.value || null,
    };
    progress.hidden = false;
    bar.value = 0;
    barText.textContent = 'Starting\u2026';
    try {
      const started = /** @type {{ evaluate: RunState }} */ (
        await gql(
          `mutation Evaluate($modelId: ID, $metrics: [EvaluationMetric!]!, $samples: Int!, $splits: Int!, $seed: Int!, $scorer: String) {
          evaluate(modelId: $modelId, metrics: $metrics, samples: $samples, splits: $splits, seed: $seed, scorer: $scorer) { id status progress errorCode errorMessage } }`,
          variables,
        )
      );
      const run = await settle(started.evaluate);
      if (stopped) return;
      if (run.status !== 'SUCCEEDED') throw new ApiError(run.errorMessage ?? `The evaluation ended ${run.status}`, run.errorCode ?? 'BAD_USER_INPUT');
      const data = /** @type {{ evaluation: Evaluation }} */ (
        await gql(`query Evaluation($id: ID!) { evaluation(runId: $id) { ${EVALUATION} } }`, { id: run.id })
      );
      const result = data.evaluation;
      barText.textContent = `Done: ${summary(result)}`;
      live.textContent = `Evaluation finished: ${summary(result)}.`;
      if (!stopped && result.modelId === modelSelect.value) {
        evaluations = [result, ...evaluations.filter((e) => e.runId !== result.runId)];
        render();
      }
    } catch (err) {
      progress.hidden = true;
      showError(runErrors, err);
    }
  }

  /**
   * Polls run(id) until it leaves RUNNING, showing its progress.
   * @param {RunState} run
   * @returns {Promise<RunState>}
   */
  async function settle(run) {
    let current = run;
    while (current.status === 'RUNNING' && !stopped) {
      bar.value = current.progress ?? 0;
      barText.textContent = `Scoring samples\u2026 ${Math.round((current.progress ?? 0) * 100)}%`;
      await new Promise((resolve) => {
        timer = setTimeout(resolve, POLL_MS);
      });
      current = /** @type {{ run: RunState }} */ (
        await gql('query EvalRun($id: ID!) { run(id: $id) { id status progress errorCode errorMessage } }', { id: run.id })
      ).run;
    }
    bar.value = current.progress ?? 1;
    return current;
  }

  function render() {
    const oldestFirst = [...evaluations].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
    const at = (/** @type {Evaluation} */ e) => Date.parse(e.createdAt);
    /** @type {Pick<PlotOptions, 'height' | 'xType' | 'xLabel'>} */
    const common = { height: 200, xType: 'time', xLabel: 'evaluated at' };
    const isPoints = oldestFirst.flatMap((e) => (e.inceptionScore ? [{ x: at(e), y: e.inceptionScore.mean, err: e.inceptionScore.std }] : []));
    const fidPoints = oldestFirst.flatMap((e) => (e.fid !== null ? [{ x: at(e), y: e.fid }] : []));
    const kidPoints = oldestFirst.flatMap((e) => (e.kid ? [{ x: at(e), y: e.kid.mean, err: e.kid.std }] : []));
    // The figures go in first, so each plot is drawn at the width its grid cell has.
    /** @type {Array<[caption: string, options: Omit<PlotOptions, 'width'>]>} */
    const specs = [
      [
        'Inception Score (higher is better)',
        {
          title: 'Inception Score over time',
          yLabel: 'IS',
          format: (y) => y.toFixed(3),
          series: [{ name: 'IS mean \u00b1 std over splits', points: isPoints }],
        },
      ],
      [
        'FID (lower is better)',
        { title: 'FID over time', yLabel: 'FID', yMin: 0, format: (y) => y.toFixed(2), series: [{ name: 'FID', points: fidPoints, color: '#d55e00' }] },
      ],
      [
        'KID (lower is better)',
        {
          title: 'KID over time',
          yLabel: 'KID',
          format: (y) => y.toPrecision(3),
          series: [{ name: 'KID mean \u00b1 std over subsets', points: kidPoints, color: '#009e73' }],
        },
      ],
    ];
    const figures = specs.map(([caption]) => el('figure', { class: 'plot-figure' }, el('figcaption', {}, caption)));
    plots.replaceChildren(...figures);
    specs.forEach(([, options], i) => {
      const width = Math.max(240, Math.min(640, Math.floor(figures[i].clientWidth || 400)));
      figures[i].append(linePlot({ ...common, ...options, width }));
    });
    tableBody.replaceChildren(
      ...(evaluations.length
        ? evaluations.map((e) =>
            el(
              'tr',
              { 'data-run-id': e.runId },
              el('td', {}, el('time', { datetime: e.createdAt, title: new Date(e.createdAt).toLocaleString() }, shortDate(e.createdAt))),
              el('td', {}, String(e.samples)),
              el('td', {}, String(e.seed)),
              el('td', {}, String(e.splits)),
              el('td', {}, e.scorer),
              el('td', {}, e.inceptionScore ? `${e.inceptionScore.mean.toFixed(3)} \u00b1 ${e.inceptionScore.std.toFixed(3)}` : '\u2014'),
              el('td', {}, e.fid === null ? '\u2014' : e.fid.toFixed(2)),
              el('td', {}, e.kid ? `${e.kid.mean.toPrecision(3)} \u00b1 ${e.kid.std.toPrecision(2)}` : '\u2014'),
            ),
          )
        : [el('tr', {}, el('td', { colspan: '8', class: 'muted' }, 'No evaluations of this version yet: run one.'))]),
    );
  }

  // A key pasted under Settings may now allow reading the evaluations (and the versions, if they were refused).
  const stopKeyListener = onApiKeyChange(() => void (modelSelect.value ? loadEvaluations() : loadModels()));
  // Plots are drawn at their cell's pixel width: redraw when it changes.
  let resizeTimer = 0;
  const onResize = () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(render, 150);
  };
  window.addEventListener('resize', onResize);
  void loadModels();
  return () => {
    stopKeyListener();
    window.removeEventListener('resize', onResize);
    clearTimeout(resizeTimer);
    stopped = true;
    clearTimeout(timer);
  };
}

/**
 * "14:05:09" for today, "2026-11-26 14:05" before: short enough for a table cell on a phone.
 * @param {string} iso
 */
function shortDate(iso) {
  const d = new Date(iso);
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
  if (d.toDateString() === new Date().toDateString()) return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** @param {Evaluation} e */
function summary(e) {
  const parts = [];
  if (e.inceptionScore) parts.push(`IS ${e.inceptionScore.mean.toFixed(3)} \u00b1 ${e.inceptionScore.std.toFixed(3)}`);
  if (e.fid !== null) parts.push(`FID ${e.fid.toFixed(2)}`);
  if (e.kid) parts.push(`KID ${e.kid.mean.toPrecision(3)} \u00b1 ${e.kid.std.toPrecision(2)}`);
  if (e.parzen) parts.push(`Parzen ${e.parzen.mean.toFixed(1)} \u00b1 ${e.parzen.stdErr.toFixed(1)} nats`);
  return parts.join(', ') || 'no metrics';
}
