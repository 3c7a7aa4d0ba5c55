// Tests of HAL control → KS property bindings: ids, unit conversions and ranges that round-trip.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { ControlCapability } from '@ksemu/hal';
import { CameraControlProperty, VideoProcAmpProperty } from './camera-property-ids.js';
import { bindControl, bindControls, snapToGrid } from './control-binding.js';

const cap = (c: Partial<ControlCapability> & Pick<ControlCapability, 'id'>): ControlCapability => ({
  name: c.id,
  type: 'integer',
  min: 0,
  max: 100,
  step: 1,
  default: 50,
  autoCapable: false,
  autoDefault: false,
  ...c,
});

describe('bindControl', () => {
  it('maps HAL controls onto the ksmedia.h property ids', () => {
    const ids = bindControls([
      cap({ id: 'brightness' }),
      cap({ id: 'white-balance-temperature', min: 2800, max: 6500, step: 10, default: 4600 }),
      cap({ id: 'power-line-frequency', max: 2, default: 2 }),
      cap({ id: 'focus' }),
      cap({ id: 'privacy', max: 1, default: 0 }),
    ]).map((b) => [b.family, b.id]);
    expect(ids).toEqual([
      ['video-proc-amp', VideoProcAmpProperty.Brightness],
      ['video-proc-amp', 7],
      ['video-proc-amp', 13],
      ['camera-control', CameraControlProperty.Focus],
      ['camera-control', 8],
    ]);
  });

  it('passes identity-unit controls through unchanged, keeping range, step, default and auto', () => {
    const b = bindControl(
      cap({ id: 'focus', min: 0, max: 250, step: 5, default: 0, autoCapable: true, autoDefault: true }),
    )!;
    expect(b).toMatchObject({ min: 0, max: 250, step: 5, default: 0, autoCapable: true, autoDefault: true });
    expect(b.conversion.name).toBe('identity');
  });

  it('expresses UVC exposure (100 µs) as log2 seconds, inside the device range', () => {
    const b = bindControl(cap({ id: 'exposure', min: 3, max: 2047, default: 156, unit: '100us' }))!;
    expect(b.conversion.name).toBe('log2-seconds');
    // 2^-11 s ≈ 488 µs is the shortest KS value the device reaches (2^-12 s = 244 µs < 300 µs),
    // 2^-3 s = 125 ms the longest (2^-2 s = 250 ms > 204.7 ms); 15.6 ms ≈ 2^-6 s.
    expect([b.min, b.max, b.step, b.default]).toEqual([-11, -3, 1, -6]);
  });

  it('expresses pan and tilt (arc-seconds) in degrees', () => {
    const b = bindControl(
      cap({ id: 'pan', min: -36000, max: 36000, step: 3600, default: 0, unit: 'arc-second' }),
    )!;
    expect([b.min, b.max, b.step, b.default]).toEqual([-10, 10, 1, 0]);
    expect(b.conversion.toHal(-7)).toBe(-25200);
  });

  it('leaves out controls KS has no property for', () => {
    expect(bindControl(cap({ id: 'gamma' }))).toBeDefined();
    expect(bindControls([])).toEqual([]);
  });

  // UVC exposure has a resolution of one 100 µs unit; coarser grids cannot represent every log2 step.
  it('round-trips every KS value of a converted range through the HAL grid', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 100, max: 100_000 }), (min, span) => {
        const c = cap({ id: 'exposure', min, max: min + span, step: 1, default: min, unit: '100us' });
        const b = bindControl(c)!;
        expect(b.min).toBeLessThanOrEqual(b.max);
        for (let k = b.min; k <= b.max; k++) {
          const h = snapToGrid(c, b.conversion.toHal(k));
          expect(h).toBeGreaterThanOrEqual(c.min);
          expect(h).toBeLessThanOrEqual(c.max);
          expect(b.conversion.toKs(h)).toBe(k);
        }
      }),
    );
  });
});

describe('snapToGrid', () => {
  it('clamps into range and rounds to the nearest step from min', () => {
    const c = cap({ id: 'focus', min: 0, max: 250, step: 5 });
    expect([snapToGrid(c, -3), snapToGrid(c, 7), snapToGrid(c, 8), snapToGrid(c, 999)]).toEqual([
      0, 5, 10, 250,
    ]);
  });
});
