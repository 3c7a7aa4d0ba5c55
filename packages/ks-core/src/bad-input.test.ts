// Garbage in, typed errors out: every public entry point answers malformed input with TypeError/RangeError/KsError, never a hang or crash.
import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { ManualClock } from './manual-clock.js';
import { createTestDevice, TestProperty } from './testing/test-minidriver.js';
import { createDevice } from './device.js';
import { isKsError } from './ks-error.js';
import { PropertyRequestFlags } from './property-handler.js';
import type { KsState } from './pin.js';
import { intersectRanges } from './intersection.js';
import { testFilterDescriptor } from './testing/test-minidriver.js';

function typed(err: unknown): boolean {
  return err instanceof TypeError || err instanceof RangeError || isKsError(err);
}

async function settle(p: () => unknown): Promise<unknown> {
  try {
    await p();
    return undefined;
  } catch (err) {
    return err;
  }
}

const garbage = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.constant(NaN),
  fc.constant(Infinity),
  fc.integer(),
  fc.double(),
  fc.string().filter((s) => !['stop', 'acquire', 'pause', 'run'].includes(s)),
  fc.bigInt(),
  fc.boolean(),
  fc.object(),
  fc.array(fc.integer()),
);

describe('bad input', () => {
  it('device, filter and pin entry points', async () => {
    expect(typed(await settle(() => createDevice({} as never)))).toBe(true);
    expect(typed(await settle(() => createDevice(null as never)))).toBe(true);
    const clock = new ManualClock();
    const { device } = createTestDevice(clock);
    const filter = await device.createFilter();
    const pin = await filter.createPin(0, { format: {} });
    await fc.assert(
      fc.asyncProperty(garbage, async (g) => {
        for (const call of [
          () => device.createFilter(g as never),
          () => filter.createPin(g as never),
          () => pin.setState(g as KsState),
          () => pin.setFormat(g as never),
          () => filter.properties.get(g as never, 0),
          () => filter.properties.set(TestProperty.set, TestProperty.Gain, g as never),
          () => filter.properties.set(TestProperty.set, g as never, 0),
          () =>
            filter.properties.raw(
              { set: TestProperty.set, id: TestProperty.Gain, flags: g as never },
              new Uint8Array(4),
            ),
          () =>
            filter.properties.raw(
              { set: TestProperty.set, id: TestProperty.Gain, flags: PropertyRequestFlags.GET },
              g as never,
            ),
          () => filter.events.enable(TestProperty.set, 0, g as never),
          () => pin.setMasterClock(g as never),
          () => clock.advance(g as never),
        ]) {
          const err = await settle(call);
          if (err !== undefined && !typed(err))
            throw new Error(`untyped error from ${call.toString()}: ${String(err)}`);
        }
      }),
      { numRuns: 60 },
    );
    // A generated string may happen to be a real state name ('run'): the pin must still stop cleanly.
    await pin.setState('stop');
    expect(pin.state).toBe('stop');
    await device.close();
  });

  it('intersection never throws for arbitrary requests', () => {
    fc.assert(
      fc.property(
        fc.record({
          width: garbage,
          height: garbage,
          frameInterval: garbage,
          subtype: garbage,
          bitCount: garbage,
        }),
        (req) => {
          const r = intersectRanges(testFilterDescriptor.pins[0]!.dataRanges, req as never);
          expect(['valid', 'adjusted', 'invalid']).toContain(r.status);
        },
      ),
      { numRuns: 300 },
    );
  });
});
