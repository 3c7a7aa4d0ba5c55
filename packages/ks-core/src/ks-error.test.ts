// Tests of KsError codes/causes, wrong-state errors and the typed emitter's listener-error isolation.
import { describe, it, expect } from '@jest/globals';
import { KsError, KsStateError, isKsError, ntStatusOf } from './ks-error.js';
import { TypedEmitter } from './event.js';

describe('KsError', () => {
  it('keeps code, cause and NTSTATUS', () => {
    const cause = new Error('usb stall');
    const e = new KsError('DeviceBusy', 'in use', { cause });
    expect(e.code).toBe('DeviceBusy');
    expect(e.cause).toBe(cause);
    expect(e.ntStatus).toBe(0x80000011);
    expect(ntStatusOf('NotFound')).toBe(0xc0000225);
    expect(isKsError(e)).toBe(true);
    expect(isKsError({ name: 'KsError', code: 'NotFound' })).toBe(true);
    // Each KsError subclass is recognised across realms (a Worker's or jest's) by its name too.
    expect(isKsError({ name: 'KsStateError', code: 'InvalidDeviceState' })).toBe(true);
    expect(isKsError({ name: 'KsNecessaryInstancesError', code: 'InvalidDeviceState' })).toBe(true);
    expect(isKsError({ name: 'TypeError', code: 'InvalidDeviceState' })).toBe(false);
    expect(isKsError(new Error('x'))).toBe(false);
    expect(new KsError('BufferTooSmall', 'x', { requiredSize: 12 }).requiredSize).toBe(12);
    expect(JSON.parse(JSON.stringify(new KsError('BufferTooSmall', 'x', { requiredSize: 12 })))).toEqual({
      name: 'KsError',
      code: 'BufferTooSmall',
      message: 'x',
      ntStatus: 0xc0000023,
      requiredSize: 12,
    });
  });

  it('wraps foreign errors, passes KsErrors through', () => {
    const inner = new KsError('TimedOut', 't');
    expect(KsError.from(inner, 'DeviceFailure', 'm')).toBe(inner);
    const wrapped = KsError.from(new RangeError('bad'), 'DeviceFailure', 'start failed');
    expect(wrapped.code).toBe('DeviceFailure');
    expect(wrapped.message).toBe('start failed: bad');
    expect(wrapped.cause).toBeInstanceOf(RangeError);
  });

  it('wrong-state errors name current and required states', () => {
    const e = new KsStateError('pin 0', 'setFormat', 'run', ['stop']);
    expect(e.message).toBe('pin 0: setFormat() requires state stop, but it is run');
    expect(e.code).toBe('InvalidDeviceState');
    expect(new KsStateError('f', 'op', 'closed', ['open', 'x'], 'Closed').message).toMatch(
      /one of the states open, x/,
    );
  });
});

describe('TypedEmitter', () => {
  it('catches listener errors and re-emits them as listenerError; emit never throws', () => {
    const em = new TypedEmitter<{ tick: [n: number] }>();
    const seen: number[] = [];
    const errors: Array<[unknown, string]> = [];
    em.on('tick', () => {
      throw new Error('user bug');
    });
    em.on('tick', (n) => seen.push(n));
    em.on('listenerError', (err, event) => errors.push([err, event]));
    expect(em.emit('tick', 1)).toBe(true);
    expect(seen).toEqual([1]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.[1]).toBe('tick');
  });

  it('survives a throwing listenerError listener and supports once/off', () => {
    const unhandled: unknown[] = [];
    const em = new TypedEmitter<{ a: [] }>((e) => unhandled.push(e));
    em.on('a', () => {
      throw new Error('1');
    });
    em.on('listenerError', () => {
      throw new Error('2');
    });
    expect(() => em.emit('a')).not.toThrow();
    expect(unhandled).toHaveLength(1);
    let count = 0;
    em.once('a', () => count++);
    em.emit('a');
    em.emit('a');
    expect(count).toBe(1);
    const off = em.on('a', () => count++);
    off();
    em.emit('a');
    expect(count).toBe(1);
    expect(() => em.on('a', 5 as unknown as () => void)).toThrow(TypeError);
  });
});
