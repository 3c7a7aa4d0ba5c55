// Per-run streaming statistics: frames, drops, achieved rate and latency percentiles, kept allocation-free per frame.

/** Summary printed at the end of `ksemu stream` (and as JSON with --json). */
export interface StreamSummary {
  readonly device: string;
  readonly format: string;
  readonly frames: number;
  readonly drops: number;
  readonly errors: number;
  readonly seconds: number;
  readonly fps: number;
  readonly nominalFps: number;
  /** Delivery latency (frame completed → consumer saw it) in milliseconds. */
  readonly latencyMs: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly max: number;
  };
  readonly bytes: number;
  readonly output: string;
  readonly stoppedBy: 'count' | 'duration' | 'signal' | 'end-of-stream' | 'error';
}

/** Collects per-frame numbers into preallocated storage (grows by doubling, rarely). */
export class StreamStats {
  private latencies: Float64Array;
  private count = 0;
  frames = 0;
  drops = 0;
  errors = 0;
  bytes = 0;

  constructor(expectedFrames = 1024) {
    this.latencies = new Float64Array(Math.max(16, expectedFrames));
  }

  /** Records one delivered frame. */
  record(latencyMs: number, bytes: number, dropCount: number, error: boolean): void {
    if (this.count === this.latencies.length) {
      const next = new Float64Array(this.latencies.length * 2);
      next.set(this.latencies);
      this.latencies = next;
    }
    this.latencies[this.count++] = latencyMs;
    this.frames++;
    this.bytes += bytes;
    this.drops += dropCount;
    if (error) this.errors++;
  }

  /** Latency percentiles in ms (0 when no frames). */
  percentiles(): StreamSummary['latencyMs'] {
    if (this.count === 0) return { p50: 0, p90: 0, p99: 0, max: 0 };
    const sorted = this.latencies.slice(0, this.count).sort();
    const at = (q: number): number => sorted[Math.min(this.count - 1, Math.floor(q * this.count))] ?? 0;
    const r = (x: number): number => Math.round(x * 1000) / 1000;
    return { p50: r(at(0.5)), p90: r(at(0.9)), p99: r(at(0.99)), max: r(sorted[this.count - 1] ?? 0) };
  }
}

/** Human-readable summary lines. */
export function formatSummary(s: StreamSummary): string {
  const l = s.latencyMs;
  return [
    `device   ${s.device}`,
    `format   ${s.format}`,
    `output   ${s.output}`,
    `frames   ${s.frames} in ${s.seconds.toFixed(2)} s (${s.fps.toFixed(2)} fps achieved, ${s.nominalFps.toFixed(2)} nominal)`,
    `drops    ${s.drops}${s.errors ? `, ${s.errors} frames flagged with errors` : ''}`,
    `latency  p50 ${l.p50} ms, p90 ${l.p90} ms, p99 ${l.p99} ms, max ${l.max} ms`,
    `bytes    ${s.bytes.toLocaleString('en-US')}`,
    `stopped  by ${s.stoppedBy}`,
  ].join('\n');
}
