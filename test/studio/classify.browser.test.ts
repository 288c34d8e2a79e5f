import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrollsSideways, skipBrowserTests, startStudio, type Studio } from './browser';

const KPLUSONE = 'mnist-kplusone@2026-12-06T22-16';
const DCGAN = 'dcgan-mnist@2026-12-06T04-16';

interface Classification {
  label: string;
  confidence: number;
  generatedProbability: number;
  probabilities: { class: string; probability: number }[];
}
const CLASSIFY =
  'query($m: ID!, $i: [ImageInput!]!) { classify(modelId: $m, images: $i) { label confidence generatedProbability probabilities { class probability } } }';

/** What the page shows: each class's probability (data-probability), and P(generated). */
async function shown(page: Page): Promise<{ label: string; probabilities: number[]; classes: string[]; generated: number }> {
  return page.evaluate(() => {
    const items = Array.from(document.querySelectorAll<HTMLElement>('#class-probabilities li'));
    return {
      label: document.querySelector('#classify-label')?.textContent ?? '',
      probabilities: items.map((li) => Number(li.dataset.probability)),
      classes: items.map((li) => li.dataset.class ?? ''),
      generated: Number(document.querySelector<HTMLElement>('#generated-probability')?.dataset.value),
    };
  });
}

describe.skipIf(skipBrowserTests('classify'))('the studio classify page in a browser', () => {
  let studio: Studio;

  beforeAll(async () => {
    studio = await startStudio();
  });

  afterAll(async () => {
    await studio?.stop();
  });

  async function openClassify(width = 1280, height = 800) {
    const { page, problems } = await studio.newPage({ width, height });
    await studio.open(page, 'classify');
    await page.waitForSelector(`#classify-model option[value="${KPLUSONE}"]`, { state: 'attached' });
    // The K+1 model is chosen by default.
    expect(await page.inputValue('#classify-model')).toBe(KPLUSONE);
    return { page, problems };
  }

  it('classifies a dropped PNG as the API does: 10 probabilities summing to 1 and P(generated)', async () => {
    const { page, problems } = await openClassify();
    const png = (
      await studio.server.gql<{ samples: { image: { dataUrl: string } }[] }>(`{ samples(modelId: "${DCGAN}", count: 1, seed: 3) { image { dataUrl } } }`)
    ).data!.samples[0].image.dataUrl;
    // Drop it as a file on the drop zone, as a person dragging it from their desktop would.
    await page.evaluate(async (dataUrl) => {
      const blob = await (await fetch(dataUrl)).blob();
      const transfer = new DataTransfer();
      transfer.items.add(new File([blob], 'digit.png', { type: 'image/png' }));
      document.querySelector('#drop-zone')!.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, png);
    await page.waitForFunction(() => document.querySelector('#input-note')?.textContent?.includes('sent as it is'));
    expect(await page.textContent('#input-note')).toBe('digit.png: 28\u00d728 PNG, sent as it is.');
    await page.click('#classify-button');
    await page.waitForSelector('#class-probabilities li');

    const page$ = await shown(page);
    expect(page$.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(page$.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const api = (await studio.server.gql<{ classify: Classification[] }>(CLASSIFY, { m: KPLUSONE, i: [{ png }] })).data!.classify[0];
    expect(page$.label).toBe(api.label);
    expect(page$.generated).toBe(api.generatedProbability);
    api.probabilities.forEach((p, k) => expect(page$.probabilities[k]).toBeCloseTo(p.probability / (1 - api.generatedProbability), 10));
    const percent = (v: number) => (v > 0 && v < 0.0005 ? '<0.1%' : v < 1 && v > 0.9995 ? '>99.9%' : `${(100 * v).toFixed(1)}%`);
    expect(await page.textContent('#generated-probability')).toContain(`P(generated) = ${percent(api.generatedProbability)}`);
    expect(await page.textContent('#classify-verdict')).toContain(`${percent(api.confidence)} confidence`);
    expect(problems).toEqual([]);
  });

  it('classifies a digit drawn with the mouse: the pixels it sent give the same answer through the API', async () => {
    const { page, problems } = await openClassify();
    const sent: unknown[] = [];
    page.on('request', (request) => {
      const body = request.postDataJSON() as { variables?: { images?: { pixels?: number[] }[] } } | null;
      const pixels = body?.variables?.images?.[0]?.pixels;
      if (pixels) sent.push(pixels);
    });
    // A "1": one vertical stroke down the middle of the pad.
    const box = (await page.locator('#draw-pad').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
    await page.mouse.down();
    for (let t = 1; t <= 10; t++) await page.mouse.move(box.x + box.width * (0.5 - 0.01 * t), box.y + box.height * (0.15 + 0.07 * t));
    await page.mouse.up();
    await page.waitForFunction(() => document.querySelector('#input-note')?.textContent?.startsWith('Your drawing'));
    // Keyboard: Enter on the focused Classify button.
    await page.focus('#classify-button');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#class-probabilities li');
    const page$ = await shown(page);
    expect(page$.probabilities).toHaveLength(10);
    expect(page$.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(page$.generated).toBeGreaterThanOrEqual(0);
    expect(page$.generated).toBeLessThanOrEqual(1);
    expect(page$.label).toBe('1');

    expect(sent).toHaveLength(1);
    const pixels = sent[0] as number[];
    expect(pixels).toHaveLength(784);
    expect(pixels.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)).toBe(true);
    // MNIST-style: the stroke sits in the middle, the border is black.
    const at = (x: number, y: number) => pixels[y * 28 + x];
    expect(at(0, 0) + at(27, 27) + at(0, 27) + at(27, 0)).toBe(0);
    expect(Math.max(...[12, 13, 14, 15].map((x) => at(x, 14)))).toBeGreaterThan(200);
    const api = (await studio.server.gql<{ classify: Classification[] }>(CLASSIFY, { m: KPLUSONE, i: [{ pixels }] })).data!.classify[0];
    expect(page$.label).toBe(api.label);
    expect(page$.generated).toBe(api.generatedProbability);
    expect(problems).toEqual([]);
  });

  it('says in words what is wrong: nothing drawn, or a model with no classifier', async () => {
    const { page } = await openClassify();
    await page.click('#classify-button');
    const alert = page.locator('#classify-input-heading + [role=alert]');
    await alert.waitFor();
    expect(await alert.textContent()).toBe('Error: There is nothing to classify yet: draw a digit on the pad, or drop or choose a PNG');

    await page.click('#use-sample');
    await page.waitForFunction(() => document.querySelector('#input-note')?.textContent?.includes('sent as it is'));
    await page.selectOption('#classify-model', DCGAN);
    await page.click('#classify-button');
    await page.waitForFunction(
      () =>
        !document.querySelector('#classify-button')?.hasAttribute('aria-busy') && /classif/i.test(document.querySelector('[role=alert]')?.textContent ?? ''),
    );
    const sample = (await studio.server.gql<{ samples: { image: { dataUrl: string } }[] }>('{ samples(count: 1, seed: 1) { image { dataUrl } } }')).data!
      .samples[0];
    const api = await studio.server.gql(CLASSIFY, { m: DCGAN, i: [{ png: sample.image.dataUrl }] });
    expect(api.errors![0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(await alert.textContent()).toBe(`Error: ${api.errors![0].message}`);
    expect(await page.locator('#class-probabilities').count()).toBe(0);
  });

  it('fits a 375 px screen, and makes the screenshot', async () => {
    for (const [width, height] of [
      [375, 812],
      [1280, 800],
    ]) {
      const { page, problems } = await openClassify(width, height);
      const box = (await page.locator('#draw-pad').boundingBox())!;
      // A "7": a bar across the top and a stroke down to the lower left.
      const at = (x: number, y: number) => page.mouse.move(box.x + box.width * x, box.y + box.height * y);
      await at(0.25, 0.2);
      await page.mouse.down();
      for (let t = 1; t <= 8; t++) await at(0.25 + 0.06 * t, 0.2);
      for (let t = 1; t <= 10; t++) await at(0.73 - 0.03 * t, 0.2 + 0.065 * t);
      await page.mouse.up();
      await page.click('#classify-button');
      await page.waitForSelector('#class-probabilities li');
      expect(await scrollsSideways(page), `${width} px`).toBe(false);
      if (width === 1280) {
        await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
        await studio.screenshot(page, 'studio-classify');
      }
      expect(problems).toEqual([]);
    }
  });
});
