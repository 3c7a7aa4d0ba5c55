// Parses the device ids users type: synthetic:camera?pattern=smpte&seed=1, usb:046d:0825[:serial], usb:1-2.3.

/** A parsed device id. `query` holds `?key=value` options for synthetic devices. */
export type DeviceId =
  | { kind: 'synthetic'; device: string; query: Readonly<Record<string, string>>; text: string }
  | { kind: 'usb-id'; vendorId: number; productId: number; serial?: string; text: string }
  | { kind: 'usb-path'; bus: number; ports: readonly number[]; text: string };

const HEX4 = /^[0-9a-f]{4}$/i;

/**
 * Parses a device id.
 * @throws RangeError with the accepted forms when the text is not one of them.
 */
export function parseDeviceId(text: string): DeviceId {
  const trimmed = text.trim();
  if (trimmed.startsWith('synthetic:')) {
    const rest = trimmed.slice('synthetic:'.length);
    const q = rest.indexOf('?');
    const device = q < 0 ? rest : rest.slice(0, q);
    if (!/^[a-z][a-z0-9-]*$/.test(device)) throw new RangeError(`bad synthetic device name '${device}'`);
    const query: Record<string, string> = {};
    if (q >= 0) {
      for (const [k, v] of new URLSearchParams(rest.slice(q + 1))) query[k] = v;
    }
    return { kind: 'synthetic', device, query, text: trimmed };
  }
  if (trimmed.startsWith('usb:')) {
    const parts = trimmed.slice(4).split(':');
    if (parts.length >= 2 && HEX4.test(parts[0] ?? '') && HEX4.test(parts[1] ?? '')) {
      const id: DeviceId = {
        kind: 'usb-id',
        vendorId: parseInt(parts[0] ?? '', 16),
        productId: parseInt(parts[1] ?? '', 16),
        text: trimmed,
      };
      if (parts.length > 3) throw new RangeError(`too many ':' in '${trimmed}'`);
      if (parts[2]) id.serial = parts[2];
      return id;
    }
    const m = /^(\d+)-(\d+(?:\.\d+)*)$/.exec(parts.join(':'));
    if (m) {
      return {
        kind: 'usb-path',
        bus: Number(m[1]),
        ports: (m[2] ?? '').split('.').map(Number),
        text: trimmed,
      };
    }
  }
  throw new RangeError(
    `unknown device id '${text}': use synthetic:camera|pcie|tuner[?pattern=…&seed=…], usb:<vid>:<pid>[:<serial>] or usb:<bus>-<port path>`,
  );
}
