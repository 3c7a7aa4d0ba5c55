// A small vendor-class USB device for USB/IP tests: control echo, a patterned bulk IN stream, iso IN packets.

import type { UsbSpeed } from '@ksemu/hal';
import { BulkInPipe } from '../bulk-in-pipe.js';
import { IsoInPipe } from '../iso-in-pipe.js';
import type { PipeScheduler } from '../iso-in-pipe.js';
import type { ControlResult, SetupPacket, UsbIpDevice, UsbIpUrb } from '../usbip-device.js';

/** Byte `i` of the bulk pattern stream of a given seed. */
export function patternByte(seed: number, i: number): number {
  return (i * 7 + seed + (i >>> 8)) & 0xff;
}

/** Vendor requests of {@link PatternDevice}. */
export const PatternRequest = {
  /** OUT: store the data phase (echo buffer). */
  EchoStore: 0x01,
  /** IN: return the echo buffer. */
  EchoLoad: 0x02,
  /** OUT, no data: queue wValue payloads of wIndex bytes of the pattern on the bulk IN endpoint. */
  BulkStart: 0x10,
} as const;

export const PATTERN_BULK_IN = 0x81;
export const PATTERN_BULK_OUT = 0x02;
export const PATTERN_ISO_IN = 0x83;
export const PATTERN_ISO_PACKET = 1024;

export interface PatternDeviceOptions {
  readonly busid?: string;
  readonly speed?: UsbSpeed;
  readonly seed?: number;
  /** Bulk maxPayload for the ZLP rule (default Infinity). */
  readonly maxPayload?: number;
  readonly scheduler?: PipeScheduler;
}

function configDescriptor(): Uint8Array {
  const body = [
    // interface 0 alt 0: vendor, bulk IN 0x81 + bulk OUT 0x02
    9,
    4,
    0,
    0,
    2,
    0xff,
    0,
    0,
    0,
    7,
    5,
    PATTERN_BULK_IN,
    2,
    0x00,
    0x02,
    0,
    7,
    5,
    PATTERN_BULK_OUT,
    2,
    0x00,
    0x02,
    0,
    // interface 1 alt 0: no endpoints; alt 1: iso IN 0x83, 1024 bytes every microframe
    9,
    4,
    1,
    0,
    0,
    0xff,
    1,
    0,
    0,
    9,
    4,
    1,
    1,
    1,
    0xff,
    1,
    0,
    0,
    7,
    5,
    PATTERN_ISO_IN,
    5,
    PATTERN_ISO_PACKET & 0xff,
    PATTERN_ISO_PACKET >> 8,
    1,
  ];
  const total = 9 + body.length;
  return Uint8Array.from([9, 2, total & 0xff, total >> 8, 2, 1, 0, 0x80, 50, ...body]);
}

/**
 * The test device. Bulk IN carries a continuous byte pattern ({@link patternByte}) split into payloads;
 * each iso IN packet is `[n & 0xff, n >> 8]` (packet counter) followed by pattern bytes filling it.
 * Stream stop: CLEAR_FEATURE(HALT) on 0x81 (bulk), SET_INTERFACE(1, 0) (iso), or detach.
 */
export class PatternDevice implements UsbIpDevice {
  readonly busid: string;
  readonly speed: UsbSpeed;
  readonly deviceDescriptor = Uint8Array.from([
    18, 1, 0x00, 0x02, 0xff, 0, 0, 64, 0x09, 0x12, 0x02, 0x00, 0x00, 0x01, 0, 0, 0, 1,
  ]);
  readonly configDescriptor = configDescriptor();
  readonly seed: number;
  /** Reasons given to detached(), in order. */
  readonly detachReasons: string[] = [];
  /** clearHalt() calls. */
  readonly halts: number[] = [];
  /** Payloads released (sent or dropped) and those released with an error. */
  released = 0;
  releasedWithError = 0;
  bulkOutBytes = 0;
  isoStreaming = false;
  #echo: Uint8Array = new Uint8Array(0);
  #bulkOffset = 0;
  #isoCounter = 0;
  readonly #bulk: BulkInPipe;
  readonly #iso: IsoInPipe;

  constructor(options: PatternDeviceOptions = {}) {
    this.busid = options.busid ?? '1-1';
    this.speed = options.speed ?? 'high';
    this.seed = options.seed ?? 1;
    this.#bulk = new BulkInPipe({ maxPayload: options.maxPayload ?? Infinity });
    this.#iso = new IsoInPipe({
      intervalUs: this.speed === 'high' ? 125 : 1000,
      nextPacket: (max) => this.#isoPacket(max),
      ...(options.scheduler ? { scheduler: options.scheduler } : {}),
    });
  }

  get waitingBulkUrbs(): number {
    return this.#bulk.waitingUrbs;
  }

  handleControl(setup: SetupPacket, data: Uint8Array): ControlResult {
    if ((setup.requestType & 0x60) !== 0x40) return { status: 'stall' };
    switch (setup.request) {
      case PatternRequest.EchoStore:
        this.#echo = Uint8Array.from(data);
        return { status: 'ok' };
      case PatternRequest.EchoLoad:
        return { status: 'ok', data: this.#echo };
      case PatternRequest.BulkStart:
        for (let i = 0; i < setup.value; i++) this.#queueBulkPayload(setup.index);
        return { status: 'ok' };
      default:
        return { status: 'stall' };
    }
  }

  #queueBulkPayload(size: number): void {
    const b = new Uint8Array(size);
    for (let i = 0; i < size; i++) b[i] = patternByte(this.seed, this.#bulkOffset + i);
    this.#bulkOffset += size;
    // Two parts, to exercise multi-part payloads (header + body in UVC).
    const cut = Math.min(3, size);
    this.#bulk.enqueue([b.subarray(0, cut), b.subarray(cut)], (e) => {
      this.released++;
      if (e) this.releasedWithError++;
    });
  }

  #isoPacket(max: number): { parts: Uint8Array[] } | undefined {
    if (!this.isoStreaming || max < 2) return undefined;
    const n = this.#isoCounter++;
    const b = new Uint8Array(max);
    b[0] = n & 0xff;
    b[1] = (n >> 8) & 0xff;
    for (let i = 2; i < max; i++) b[i] = patternByte(this.seed, i);
    return { parts: [b] };
  }

  submit(urb: UsbIpUrb): void {
    if (urb.endpoint === PATTERN_BULK_IN) this.#bulk.submit(urb);
    else if (urb.endpoint === PATTERN_ISO_IN) this.#iso.submit(urb);
    else if (urb.endpoint === PATTERN_BULK_OUT) {
      this.bulkOutBytes += urb.data.length;
      urb.complete({});
    } else urb.complete({ status: -32 });
  }

  setInterface(interfaceNumber: number, alternateSetting: number): boolean {
    if (interfaceNumber === 1) {
      this.isoStreaming = alternateSetting === 1;
      this.#isoCounter = 0;
    }
    return true;
  }

  clearHalt(endpoint: number): void {
    this.halts.push(endpoint);
    if (endpoint === PATTERN_BULK_IN) this.#bulk.flush('halted');
  }

  detached(reason: string): void {
    this.detachReasons.push(reason);
    this.isoStreaming = false;
    this.#bulk.flush('detached');
  }
}
