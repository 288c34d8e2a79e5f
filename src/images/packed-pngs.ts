/**
 * PNGs packed into one buffer of their own, to move between threads: a small Buffer is usually a
 * slice of Node's shared 8 KiB pool, which cannot be transferred without taking its neighbours along.
 */
export interface PackedPngs {
  /** Every PNG, one after another; its buffer holds nothing else (it is transferred). */
  bytes: Uint8Array;
  /** Where each PNG ends in `bytes`. */
  ends: number[];
}

export function packPngs(pngs: readonly Uint8Array[]): PackedPngs {
  const bytes = new Uint8Array(pngs.reduce((sum, png) => sum + png.length, 0));
  const ends: number[] = [];
  let at = 0;
  for (const png of pngs) {
    bytes.set(png, at);
    at += png.length;
    ends.push(at);
  }
  return { bytes, ends };
}

/** The PNGs of `packed`, as Buffers viewing its bytes (no copy). */
export function unpackPngs(packed: PackedPngs): Buffer[] {
  return packed.ends.map((end, i) => {
    const start = i === 0 ? 0 : packed.ends[i - 1];
    return Buffer.from(packed.bytes.buffer, packed.bytes.byteOffset + start, end - start);
  });
}
