// Fault plans: deterministic misbehaviour any synthetic device can be told to show.
import { HalError, HalErrorCode } from './hal-error.js';

/**
 * One fault. Frame numbers `k` count frame times from `start()` (0-based), so a plan means the
 * same thing whatever the reported frame index is.
 */
export type Fault =
  /** The next `count` (default 1) `start()` calls fail with `HalError(code)` (default StartFailed). */
  | { readonly kind: 'fail-start'; readonly count?: number; readonly code?: HalErrorCode }
  /**
   * Drops `percent` % of frames: frame k is dropped iff hash(seed, k) mod 10000 < percent × 100.
   * The frame's mapping completes `Dropped`.
   */
  | { readonly kind: 'drop'; readonly percent: number; readonly seed?: number }
  /** Delivers the listed frames (or every `every`-th, from 0) with damaged bytes and `Corrupt`. */
  | { readonly kind: 'corrupt'; readonly frames?: readonly number[]; readonly every?: number }
  /** The device disconnects at frame time k (before producing frame k). */
  | { readonly kind: 'disconnect'; readonly atFrame: number }
  /** DMA sees no mapping during frames [from, to) (to default: forever): they are starved. */
  | { readonly kind: 'starve'; readonly fromFrame: number; readonly toFrame?: number }
  /**
   * Frame indices start `framesBeforeWrap` below 2^32, so the 32-bit sequence wraps after that
   * many frames, and presentation times (start + index × interval) start that close to the
   * time a 32-bit frame counter would wrap.
   */
  | { readonly kind: 'near-wrap'; readonly framesBeforeWrap: number };

/** A list of faults; an empty plan (the default) means a well-behaved device. */
export interface FaultPlan {
  readonly faults: readonly Fault[];
}

/** Per-frame verdict bits of {@link FaultInjector.frameFault}. */
export const FrameFault = {
  None: 0,
  Drop: 1,
  Corrupt: 2,
  Disconnect: 4,
  Starve: 8,
} as const;

const TWO_POW_32 = 4294967296;

/** 32-bit avalanche hash of (seed, k); the basis of every "random" fault decision. */
export function faultHash(seed: number, k: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ (k | 0) ^ Math.imul((k / TWO_POW_32) | 0, 0x85ebca6b)) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Throws RangeError/TypeError unless `plan` is well-formed. */
export function validateFaultPlan(plan: FaultPlan): void {
  if (typeof plan !== 'object' || plan === null || !Array.isArray(plan.faults)) {
    throw new TypeError('fault plan must be { faults: Fault[] }');
  }
  const frame = (v: unknown, what: string): void => {
    if (!Number.isSafeInteger(v) || (v as number) < 0)
      throw new RangeError(`${what} must be an integer >= 0, got ${String(v)}`);
  };
  for (const f of plan.faults) {
    switch (f.kind) {
      case 'fail-start':
        if (f.count !== undefined) frame(f.count, 'fail-start.count');
        if (f.code !== undefined && !Object.values(HalErrorCode).includes(f.code)) {
          throw new RangeError(`fail-start.code ${String(f.code)} is not a HalErrorCode`);
        }
        break;
      case 'drop':
        if (typeof f.percent !== 'number' || !(f.percent >= 0 && f.percent <= 100)) {
          throw new RangeError(`drop.percent must be in [0, 100], got ${String(f.percent)}`);
        }
        break;
      case 'corrupt':
        if (f.frames === undefined && f.every === undefined)
          throw new TypeError('corrupt needs frames or every');
        for (const k of f.frames ?? []) frame(k, 'corrupt.frames[]');
        if (f.every !== undefined && (!Number.isSafeInteger(f.every) || f.every < 1)) {
          throw new RangeError(`corrupt.every must be an integer >= 1, got ${f.every}`);
        }
        break;
      case 'disconnect':
        frame(f.atFrame, 'disconnect.atFrame');
        break;
      case 'starve':
        frame(f.fromFrame, 'starve.fromFrame');
        if (f.toFrame !== undefined) frame(f.toFrame, 'starve.toFrame');
        break;
      case 'near-wrap':
        if (
          !Number.isSafeInteger(f.framesBeforeWrap) ||
          f.framesBeforeWrap < 1 ||
          f.framesBeforeWrap > TWO_POW_32
        ) {
          throw new RangeError(`near-wrap.framesBeforeWrap must be in [1, 2^32], got ${f.framesBeforeWrap}`);
        }
        break;
      default:
        throw new TypeError(`unknown fault kind ${String((f as { kind?: unknown }).kind)}`);
    }
  }
}

/**
 * Applies a {@link FaultPlan} to one device. Decisions are pure functions of the plan and the
 * frame number, except `fail-start`, which counts down. Per-frame queries allocate nothing.
 */
export class FaultInjector {
  private startFailuresLeft = 0;
  private startFailureCode: HalErrorCode = HalErrorCode.StartFailed;
  private readonly dropThreshold: number;
  private readonly dropSeed: number;
  private readonly corruptFrames: ReadonlySet<number>;
  private readonly corruptEvery: number;
  private readonly disconnectAt: number;
  private readonly starveRanges: ReadonlyArray<readonly [number, number]>;
  /** Frame index reported for frame 0 (0, or just below 2^32 under `near-wrap`). */
  readonly firstFrameIndex: number;

  constructor(plan: FaultPlan = { faults: [] }) {
    validateFaultPlan(plan);
    let dropThreshold = 0;
    let dropSeed = 0;
    const corrupt = new Set<number>();
    let every = 0;
    let disconnectAt = -1;
    const starve: Array<readonly [number, number]> = [];
    let first = 0;
    for (const f of plan.faults) {
      switch (f.kind) {
        case 'fail-start':
          this.startFailuresLeft += f.count ?? 1;
          this.startFailureCode = f.code ?? HalErrorCode.StartFailed;
          break;
        case 'drop':
          dropThreshold = Math.round(f.percent * 100);
          dropSeed = f.seed ?? 0;
          break;
        case 'corrupt':
          for (const k of f.frames ?? []) corrupt.add(k);
          if (f.every !== undefined) every = f.every;
          break;
        case 'disconnect':
          disconnectAt = disconnectAt < 0 ? f.atFrame : Math.min(disconnectAt, f.atFrame);
          break;
        case 'starve':
          starve.push([f.fromFrame, f.toFrame ?? Number.POSITIVE_INFINITY]);
          break;
        case 'near-wrap':
          first = TWO_POW_32 - f.framesBeforeWrap;
          break;
      }
    }
    this.dropThreshold = dropThreshold;
    this.dropSeed = dropSeed;
    this.corruptFrames = corrupt;
    this.corruptEvery = every;
    this.disconnectAt = disconnectAt;
    this.starveRanges = starve;
    this.firstFrameIndex = first;
  }

  /** Failures still armed for `start()`. */
  get pendingStartFailures(): number {
    return this.startFailuresLeft;
  }

  /**
   * Called by a device's `start()`: returns the error to throw (and disarms one failure), or
   * undefined to proceed.
   */
  takeStartFailure(deviceId: string): HalError | undefined {
    if (this.startFailuresLeft <= 0) return undefined;
    this.startFailuresLeft--;
    return new HalError(this.startFailureCode, `${deviceId}: start failed (fault plan 'fail-start')`, {
      deviceId,
    });
  }

  /** Bit set of {@link FrameFault} for frame time k (0-based from start). */
  frameFault(k: number): number {
    let v = 0;
    if (this.disconnectAt >= 0 && k >= this.disconnectAt) v |= FrameFault.Disconnect;
    for (let i = 0; i < this.starveRanges.length; i++) {
      const r = this.starveRanges[i]!;
      if (k >= r[0] && k < r[1]) v |= FrameFault.Starve;
    }
    if (this.dropThreshold > 0 && faultHash(this.dropSeed, k) % 10000 < this.dropThreshold)
      v |= FrameFault.Drop;
    if (this.corruptFrames.has(k) || (this.corruptEvery > 0 && k % this.corruptEvery === 0))
      v |= FrameFault.Corrupt;
    return v;
  }

  /**
   * Damages a delivered frame in place, deterministically: flips bytes at a stride through the
   * payload, so the data no longer matches the clean render but keeps its size.
   */
  static corrupt(memory: Uint8Array, offset: number, bytesUsed: number, k: number): void {
    const step = Math.max(1, Math.floor(bytesUsed / 64));
    const start = faultHash(0x5eed, k) % step;
    for (let i = start; i < bytesUsed; i += step) memory[offset + i] = memory[offset + i]! ^ 0xa5;
  }
}
