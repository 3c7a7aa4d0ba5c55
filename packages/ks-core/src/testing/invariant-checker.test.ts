// Tests of the stream invariant checker: it passes a clean run and catches each kind of violation.
import { describe, expect, it } from '@jest/globals';
import { FramePool, SlotState } from '../frame-pool.js';
import { ksTime } from '../ks-time.js';
import { KsQueue } from '../queue.js';
import { FrameFlags } from '../stream-header.js';
import { StreamInvariantChecker, StreamInvariantError } from './invariant-checker.js';

const VALID = FrameFlags.TimeValid | FrameFlags.DurationValid;

/** A queue whose headers the test writes by hand, then reports to the checker as delivered. */
function rig(): { queue: KsQueue; checker: StreamInvariantChecker; deliver: (f: Partial<Fake>) => void } {
  const pool = FramePool.allocate({ slotCount: 2, dataBytes: 16 });
  const queue = new KsQueue(pool, { name: 'checked' });
  const checker = new StreamInvariantChecker();
  checker.attach(queue);
  queue.start({ start: ksTime(0), period: ksTime(10) });
  const deliver = (f: Partial<Fake>): void => {
    const h = queue.headers;
    const seq = f.sequence ?? 0;
    h.setSequence(0, seq);
    h.setDropCount(0, f.dropCount ?? 0);
    h.setFlags(0, f.flags ?? VALID);
    h.setPresentationTime(0, f.time ?? BigInt(seq) * 10n);
    h.setDuration(0, f.duration ?? 10n);
    h.setBytesUsed(0, f.bytesUsed ?? 16);
    checker.delivered(queue, 0);
  };
  return { queue, checker, deliver };
}

interface Fake {
  sequence: number;
  dropCount: number;
  flags: number;
  time: bigint;
  duration: bigint;
  bytesUsed: number;
}

function rules(checker: StreamInvariantChecker): string[] {
  return checker.violations.map((v) => v.rule);
}

describe('StreamInvariantChecker', () => {
  it('accepts a clean run with drops accounted', () => {
    const { checker, deliver } = rig();
    deliver({ sequence: 0 });
    deliver({ sequence: 1 });
    deliver({ sequence: 4, dropCount: 2, flags: VALID | FrameFlags.DataDiscontinuity });
    deliver({ sequence: 5, dropCount: 2 });
    expect(checker.violations).toEqual([]);
    expect(checker.deliveredCount).toBe(4);
    expect(() => checker.assertClean()).not.toThrow();
  });

  it('catches a sequence that does not increase', () => {
    const { checker, deliver } = rig();
    deliver({ sequence: 3, dropCount: 3, flags: VALID | FrameFlags.DataDiscontinuity });
    deliver({ sequence: 3, dropCount: 3 });
    expect(rules(checker)).toContain('sequence');
  });

  it('catches presentation times that do not increase or are not start + n × period, and non-positive durations', () => {
    const a = rig();
    a.deliver({ sequence: 0 });
    a.deliver({ sequence: 1, time: 0n }); // repeats a time, and is off the index's time (10)
    expect(a.checker.violations.map((v) => v.message)).toEqual([
      'presentation time 0 after 0',
      'presentation time 0 of frame 1 is not start + n × period = 10',
    ]);
    const b = rig();
    b.deliver({ sequence: 0 });
    b.deliver({ sequence: 1, time: 25n }); // increasing, but jumped (e.g. by a paused time)
    expect(rules(b.checker)).toEqual(['time']);
    const c = rig();
    c.deliver({ sequence: 2, dropCount: 2, flags: VALID | FrameFlags.DataDiscontinuity, duration: 0n });
    expect(rules(c.checker)).toEqual(['time']);
  });

  it('catches gaps without drops, drops without gaps and a missing or spurious discontinuity flag', () => {
    const { checker, deliver } = rig();
    deliver({ sequence: 0 });
    deliver({ sequence: 2 }); // gap of 1, drop count unchanged
    expect(rules(checker)).toEqual(['drops']);
    const b = rig();
    b.deliver({ sequence: 0, dropCount: 1, flags: VALID | FrameFlags.DataDiscontinuity }); // drop without a gap
    b.deliver({ sequence: 2, dropCount: 2 }); // discontinuity flag missing
    b.deliver({ sequence: 3, dropCount: 2, flags: VALID | FrameFlags.DataDiscontinuity }); // spurious flag
    expect(rules(b.checker)).toEqual(['drops', 'drops', 'drops']);
  });

  it('catches bytesUsed beyond the slot', () => {
    const { checker, deliver } = rig();
    deliver({ sequence: 0, bytesUsed: 17 });
    expect(rules(checker)).toEqual(['bytes']);
  });

  it('catches a frame delivered after stop() and unbalanced slots', async () => {
    const { queue, checker, deliver } = rig();
    queue.takeFrame();
    const stop = queue.stop();
    deliver({ sequence: 0 });
    await stop;
    expect(rules(checker)).toEqual(['after-stop']);
    queue.pool.transition(1, SlotState.Free, SlotState.Queued); // a slot leaked by a broken driver
    checker.checkBalance();
    expect(rules(checker)).toEqual(['after-stop', 'balance']);
    expect(checker.violations[1]?.message).toContain('queued 1');
    let err: unknown;
    try {
      checker.assertClean();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StreamInvariantError);
    expect((err as StreamInvariantError).violations).toHaveLength(2);
    expect((err as Error).message).toContain('[balance]');
  });

  it('checks what the consumer saw', () => {
    const checker = new StreamInvariantChecker();
    checker.consumerSaw(1);
    checker.consumerSaw(1);
    checker.consumerSaw(2, true);
    expect(rules(checker)).toEqual(['consumer', 'consumer']);
  });
});
