import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { printGanqlSchema } from '../../src/graphql/print-schema';

describe('schema.graphql', () => {
  it('matches the type-graphql classes (run `npm run schema` when this fails)', async () => {
    const committed = readFileSync(path.resolve(__dirname, '../../schema.graphql'), 'utf8');
    expect(committed).toBe(await printGanqlSchema());
  });

  it('documents the limits of samples', async () => {
    const sdl = await printGanqlSchema();
    expect(sdl).toContain('How many images, 1..GANQL_MAX_SAMPLES (default limit 256)');
    expect(sdl).toMatch(/samples\(\n[\s\S]*count: Int[\s\S]*latents: \[\[Float!\]!\][\s\S]*modelId: ID[\s\S]*seed: Int\n\s*\): \[Sample!\]!/);
  });

  it('documents classify: its arguments, the two forms of an image and the expected size', async () => {
    const sdl = await printGanqlSchema();
    expect(sdl).toMatch(/classify\(\n[\s\S]*images: \[ImageInput!\]!\n[\s\S]*modelId: ID!\n\s*\): \[Classification!\]!/);
    expect(sdl).toMatch(/input ImageInput \{[\s\S]*pixels: \[Float!\][\s\S]*png: String\n\}/);
    expect(sdl).toContain("exactly one of png or pixels, of the model's image size");
    expect(sdl).toContain('784 for 28x28x1');
    expect(sdl).toContain('1..GANQL_MAX_SAMPLES images');
  });
});
