// The colour-bar frame every USB test camera of the VM tiers sends: one definition for their checks.

/**
 * The proof-of-concept camera's frame (usbvm/poc/usbip-uvc-server.js; usbip-export's pattern camera in
 * `poc-bars` mode and the gadget responder send it too): YUYV colour bars scrolled by 4 pixels per
 * frame, frame number `n` in the first 8 bytes (little endian). Fills `out` (width × height × 2 bytes).
 */
export function paintPocBars(n: number, out: Uint8Array, width: number, height: number): void {
  const bars = [
    [235, 128, 128],
    [210, 16, 146],
    [170, 166, 16],
    [145, 54, 34],
    [106, 202, 222],
    [81, 90, 240],
    [41, 240, 110],
    [16, 128, 128],
  ] as const;
  const shift = (n * 4) % width;
  for (let x = 0; x < width; x += 2) {
    const c = bars[Math.floor((((x + shift) % width) * 8) / width)]!;
    const o = x * 2;
    out[o] = c[0];
    out[o + 1] = c[1];
    out[o + 2] = c[0];
    out[o + 3] = c[2];
  }
  for (let y = 1; y < height; y++) out.copyWithin(y * width * 2, 0, width * 2);
  new DataView(out.buffer, out.byteOffset, out.byteLength).setBigUint64(0, BigInt(n), true);
}
