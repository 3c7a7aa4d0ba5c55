// UVC status interrupt packets (VC interrupt endpoint): decode on the host, encode on the device.

/** A decoded status packet. Unknown or short packets decode to `kind: 'invalid'` (never thrown). */
export type UvcStatusPacket =
  | {
      readonly kind: 'control';
      /** Entity (unit/terminal id) whose control changed. */
      readonly originator: number;
      /** bEvent (0 = control change). */
      readonly event: number;
      readonly selector: number;
      /** 0 value change, 1 info change, 2 failure change, 3 min change, 4 max change. */
      readonly attribute: 'value' | 'info' | 'failure' | 'min' | 'max' | number;
      /** bValue bytes (borrowed view into the packet). */
      readonly value: Uint8Array;
    }
  | {
      readonly kind: 'streaming';
      /** VS interface number. */
      readonly originator: number;
      /** 0 = button press (value[0] 1 pressed / 0 released); others vendor-defined. */
      readonly event: number;
      readonly value: Uint8Array;
    }
  | { readonly kind: 'invalid'; readonly reason: string };

const ATTRIBUTES = ['value', 'info', 'failure', 'min', 'max'] as const;

/** Decodes one packet from the VC interrupt endpoint. */
export function decodeStatusPacket(b: Uint8Array): UvcStatusPacket {
  if (b.length < 3) return { kind: 'invalid', reason: `status packet of ${b.length} bytes` };
  const type = (b[0] ?? 0) & 0x0f;
  if (type === 1) {
    if (b.length < 5) return { kind: 'invalid', reason: `control status packet of ${b.length} bytes` };
    const a = b[4] ?? 0;
    return {
      kind: 'control',
      originator: b[1] ?? 0,
      event: b[2] ?? 0,
      selector: b[3] ?? 0,
      attribute: ATTRIBUTES[a] ?? a,
      value: b.subarray(5),
    };
  }
  if (type === 2) return { kind: 'streaming', originator: b[1] ?? 0, event: b[2] ?? 0, value: b.subarray(3) };
  return { kind: 'invalid', reason: `unknown status type ${type}` };
}

/** Device side: a control-change packet (attribute 0 = value) carrying the new encoded value. */
export function encodeControlStatus(
  originator: number,
  selector: number,
  value: Uint8Array,
  attribute = 0,
): Uint8Array {
  const out = new Uint8Array(5 + value.length);
  out.set([1, originator & 0xff, 0, selector & 0xff, attribute & 0xff]);
  out.set(value, 5);
  return out;
}

/** Device side: a streaming-interface button event (pressed 1 / released 0). */
export function encodeButtonStatus(vsInterface: number, pressed: boolean): Uint8Array {
  return new Uint8Array([2, vsInterface & 0xff, 0, pressed ? 1 : 0]);
}
