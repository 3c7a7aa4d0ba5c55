// Live streaming statistics for the viewer: achieved rates, drops, latency percentiles over a sliding window.

/** A snapshot the page shows (numbers only, JSON-ready). */
export interface ViewerStatsSnapshot {
  /** Frames the pin delivered per second over the last interval. */
  readonly fps: number;
  /** Frames sent to browsers per second (all clients) over the last interval. */
  readonly sentFps: number;
  /** Frames delivered by the pin since the capture started. */
  readonly frames: number;
  /** Frames the device or queue dropped (KS queue statistics). */
  readonly drops: number;
  /** Frame sends skipped because a browser had not finished the previous frame. */
  readonly skipped: number;
  /** Capture→delivery latency percentiles over the last frames, milliseconds. */
  readonly latencyMs: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly max: number;
  };
  /** Pool slots not free (queued, mapped, filled or held) and the pool's size. */
  readonly pool: { readonly outstanding: number; readonly slots: number };
}

const WINDOW = 256;

/**
 * Counters and a latency ring kept in preallocated storage, so recording a frame allocates
 * nothing. Rates are computed between successive {@link snapshot} calls on the injected clock.
 */
export class ViewerStats {
  private readonly latencies = new Float64Array(WINDOW);
  private readonly sorted = new Float64Array(WINDOW);
  private filledCount = 0;
  private next = 0;
  frames = 0;
  sent = 0;
  skipped = 0;
  private lastFrames = 0;
  private lastSent = 0;
  private lastAt: number;

  constructor(private readonly nowMs: () => number) {
    this.lastAt = nowMs();
  }

  /** One frame delivered by the pin with its capture→delivery latency. */
  recordFrame(latencyMs: number): void {
    this.frames++;
    this.latencies[this.next] = latencyMs;
    this.next = (this.next + 1) % WINDOW;
    if (this.filledCount < WINDOW) this.filledCount++;
  }

  /** Forgets everything (a new capture run starts). */
  reset(): void {
    this.frames = this.sent = this.skipped = this.lastFrames = this.lastSent = 0;
    this.filledCount = this.next = 0;
    this.lastAt = this.nowMs();
  }

  /** Rates since the previous snapshot, percentiles over the window. */
  snapshot(drops: number, pool: ViewerStatsSnapshot['pool']): ViewerStatsSnapshot {
    const now = this.nowMs();
    const dt = Math.max(1e-3, (now - this.lastAt) / 1000);
    const fps = (this.frames - this.lastFrames) / dt;
    const sentFps = (this.sent - this.lastSent) / dt;
    this.lastAt = now;
    this.lastFrames = this.frames;
    this.lastSent = this.sent;
    const n = this.filledCount;
    const s = this.sorted.subarray(0, n);
    s.set(this.latencies.subarray(0, n));
    s.sort();
    const at = (q: number): number => (n === 0 ? 0 : round(s[Math.min(n - 1, Math.floor(q * n))] ?? 0));
    return {
      fps: round(fps),
      sentFps: round(sentFps),
      frames: this.frames,
      drops,
      skipped: this.skipped,
      latencyMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: n === 0 ? 0 : round(s[n - 1] ?? 0) },
      pool,
    };
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
