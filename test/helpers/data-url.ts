import { expect } from 'vitest';

const PNG_PREFIX = 'data:image/png;base64,';

/** The PNG bytes of an image's `dataUrl`, failing the test unless it is a base64 PNG data URL. */
export function pngBytes(dataUrl: string): Buffer {
  expect(dataUrl.startsWith(PNG_PREFIX)).toBe(true);
  return Buffer.from(dataUrl.slice(PNG_PREFIX.length), 'base64');
}
