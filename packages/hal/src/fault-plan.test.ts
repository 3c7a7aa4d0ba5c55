// Tests of fault plan validation and per-frame decisions.
import { describe, expect, it } from '@jest/globals';
import { FaultInjector, FrameFault } from './fault-plan.js';
import { HalErrorCode, isHalError } from './hal-error.js';

describe('FaultInjector', () => {
  it('arms start failures with the requested code, then disarms', () => {
    const f = new FaultInjector({ faults: [{ kind: 'fail-start', count: 2, code: HalErrorCode.TimedOut }] });
    expect(isHalError(f.takeStartFailure('dev'), HalErrorCode.TimedOut)).toBe(true);
    expect(f.pendingStartFailures).toBe(1);
    expect(f.takeStartFailure('dev')).toBeDefined();
    expect(f.takeStartFailure('dev')).toBeUndefined();
  });

  it('decides per frame, purely from the plan', () => {
    const f = new FaultInjector({
      faults: [
        { kind: 'corrupt', every: 10 },
        { kind: 'starve', fromFrame: 3, toFrame: 5 },
        { kind: 'disconnect', atFrame: 50 },
        { kind: 'drop', percent: 100 },
      ],
    });
    expect(f.frameFault(0)).toBe(FrameFault.Corrupt | FrameFault.Drop);
    expect(f.frameFault(4) & FrameFault.Starve).toBeTruthy();
    expect(f.frameFault(5) & FrameFault.Starve).toBeFalsy();
    expect(f.frameFault(50) & FrameFault.Disconnect).toBeTruthy();
    expect(new FaultInjector().frameFault(123)).toBe(FrameFault.None);
    expect(new FaultInjector({ faults: [{ kind: 'near-wrap', framesBeforeWrap: 3 }] }).firstFrameIndex).toBe(
      4294967293,
    );
  });

  it('validates plans', () => {
    expect(() => new FaultInjector({ faults: [{ kind: 'disconnect', atFrame: -1 }] })).toThrow(RangeError);
    expect(() => new FaultInjector({ faults: [{ kind: 'corrupt' }] })).toThrow(TypeError);
    expect(() => new FaultInjector({ faults: [{ kind: 'near-wrap', framesBeforeWrap: 0 }] })).toThrow(
      RangeError,
    );
    expect(() => new FaultInjector({} as never)).toThrow(TypeError);
  });
});
