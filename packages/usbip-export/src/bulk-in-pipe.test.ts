// BulkInPipe and IsoInPipe against fake URBs: payload splitting, ZLPs, release timing, pacing (manual clock).
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { IsoPacketDescriptor } from '@ksemu/hal';
import { BulkInPipe } from './bulk-in-pipe.js';
import { IsoInPipe } from './iso-in-pipe.js';
import type { PipeScheduler } from './iso-in-pipe.js';
import type { UrbCancelReason, UrbCompletion, UsbIpUrb } from './usbip-device.js';

class FakeUrb implements UsbIpUrb {
  static seq = 1;
  readonly seqnum = FakeUrb.seq++;
  readonly endpoint = 0x81;
  readonly transferFlags = 0;
  readonly interval = 1;
  readonly data = new Uint8Array(0);
  state: 'pending' | 'completed' | 'cancelled' = 'pending';
  result: UrbCompletion | undefined;
  readonly #cancel: ((r: UrbCancelReason) => void)[] = [];
  constructor(
    readonly transferBufferLength: number,
    readonly type: 'bulk' | 'iso' = 'bulk',
    readonly isoPackets?: readonly IsoPacketDescriptor[],
  ) {}
  complete(r: UrbCompletion): boolean {
    if (this.state !== 'pending') return false;
    this.state = 'completed';
    this.result = r;
    return true;
  }
  onCancel(l: (r: UrbCancelReason) => void): void {
    this.#cancel.push(l);
  }
  cancel(): void {
    this.state = 'cancelled';
    for (const l of this.#cancel) l('unlinked');
  }
  get bytes(): Uint8Array {
    return Buffer.concat((this.result?.data ?? []) as Uint8Array[]);
  }
  sent(e?: Error): void {
    this.result?.onSent?.(e);
  }
}

describe('BulkInPipe', () => {
  it('delivers every payload byte in order, never mixes payloads in one URB, and adds ZLPs by the rule', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 16 }),
        fc.integer({ min: 1, max: 50 }),
        (sizes, urbSize, maxPayload) => {
          const pipe = new BulkInPipe({ maxPayload });
          let stamp = 0;
          const payloads = sizes.map((n) => Uint8Array.from({ length: n }, () => stamp++ & 0xff));
          const released: number[] = [];
          payloads.forEach((p, i) => pipe.enqueue([p.subarray(0, 1), p.subarray(1)], () => released.push(i)));
          const urbs: FakeUrb[] = [];
          while (
            pipe.queuedPayloads > 0 ||
            urbs.length === 0 ||
            urbs[urbs.length - 1]!.state === 'completed'
          ) {
            const u = new FakeUrb(urbSize);
            urbs.push(u);
            pipe.submit(u);
            if (u.state === 'pending') break; // nothing more to send: the URB waits (NAK)
          }
          const done = urbs.filter((u) => u.state === 'completed');
          // Expected URB lengths: each payload in chunks of urbSize, a ZLP after an exact fill below maxPayload.
          const expected: number[] = [];
          for (const n of sizes) {
            let left = n;
            do {
              const k = Math.min(urbSize, left);
              expected.push(k);
              left -= k;
              if (left === 0 && k === urbSize && n < maxPayload && k > 0) expected.push(0);
            } while (left > 0);
          }
          expect(done.map((u) => u.bytes.length)).toEqual(expected);
          expect(Buffer.concat(done.map((u) => u.bytes))).toEqual(Buffer.concat(payloads));
          expect(released).toEqual([]); // nothing reached the OS yet
          for (const u of done) u.sent();
          expect(released).toEqual(sizes.map((_n, i) => i));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('holds URBs while idle and forgets cancelled ones', () => {
    const pipe = new BulkInPipe();
    const a = new FakeUrb(8);
    const b = new FakeUrb(8);
    pipe.submit(a);
    pipe.submit(b);
    expect(pipe.waitingUrbs).toBe(2);
    a.cancel();
    expect(pipe.waitingUrbs).toBe(1);
    pipe.enqueue([Uint8Array.of(1, 2, 3)]);
    expect([a.state, b.state, Array.from(b.bytes)]).toEqual(['cancelled', 'completed', [1, 2, 3]]);
  });

  it('releases a flushed payload only after the replies already carrying its bytes left', () => {
    const pipe = new BulkInPipe();
    const calls: (Error | undefined)[] = [];
    pipe.enqueue([new Uint8Array(20)], (e) => calls.push(e));
    const u = new FakeUrb(8);
    pipe.submit(u);
    pipe.flush('stopped');
    expect(calls).toEqual([]);
    u.sent();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.message).toBe('stopped');
  });
});

class ManualScheduler implements PipeScheduler {
  t = 0;
  timers: { at: number; fn: () => void; handle: number }[] = [];
  #next = 1;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const handle = this.#next++;
    this.timers.push({ at: this.t + ms, fn, handle });
    return handle;
  }
  clearTimeout(h: unknown): void {
    this.timers = this.timers.filter((x) => x.handle !== h);
  }
  advance(ms: number): void {
    this.t += ms;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= this.t + 1e-9).sort((a, b) => a.at - b.at)[0];
      if (!due) return;
      this.timers = this.timers.filter((x) => x !== due);
      due.fn();
    }
  }
}

describe('IsoInPipe', () => {
  const packets = (n: number, size: number): IsoPacketDescriptor[] =>
    Array.from({ length: n }, (_v, i) => ({ offset: i * size, length: size, actualLength: 0, status: 0 }));

  it('paces URBs back to back in bus time and packs packet payloads', () => {
    const clock = new ManualScheduler();
    let n = 0;
    const pipe = new IsoInPipe({
      intervalUs: 125,
      scheduler: clock,
      nextPacket: (max) =>
        n % 3 === 2 ? (n++, undefined) : { parts: [new Uint8Array(Math.min(max, 10 + n++))] },
    });
    const a = new FakeUrb(8 * 64, 'iso', packets(8, 64));
    const b = new FakeUrb(8 * 64, 'iso', packets(8, 64));
    pipe.submit(a);
    pipe.submit(b);
    clock.advance(0.999);
    expect(a.state).toBe('pending');
    clock.advance(0.001);
    expect([a.state, b.state]).toEqual(['completed', 'pending']);
    clock.advance(1);
    expect(b.state).toBe('completed');
    const lengths = a.result!.isoPackets!.map((p) => p.actualLength);
    expect(lengths).toEqual([10, 11, 0, 13, 14, 0, 16, 17]);
    expect(a.bytes.length).toBe(lengths.reduce((s, x) => s + x, 0));
    expect(a.result!.isoPackets!.map((p) => p.offset)).toEqual(packets(8, 64).map((p) => p.offset));
  });

  it('never completes an unlinked URB', () => {
    const clock = new ManualScheduler();
    const pipe = new IsoInPipe({ intervalUs: 125, scheduler: clock, nextPacket: () => undefined });
    const a = new FakeUrb(64, 'iso', packets(1, 64));
    pipe.submit(a);
    a.cancel();
    clock.advance(10);
    expect([a.state, pipe.scheduledUrbs, clock.timers.length]).toEqual(['cancelled', 0, 0]);
  });
});
