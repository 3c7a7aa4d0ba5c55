// A one-line progress bar on a terminal's stderr; silent when stderr is not a TTY.
import type { WriteStream } from 'node:tty';

/** Draws at most ~10 times a second so it costs nothing next to streaming. */
export class ProgressBar {
  private lastDraw = 0;
  private readonly enabled: boolean;

  constructor(
    private readonly stream: NodeJS.WriteStream | WriteStream = process.stderr,
    private readonly total: number | undefined,
    private readonly label: string,
  ) {
    this.enabled = Boolean(stream.isTTY) && !process.env.CI;
  }

  /** Redraws if enough time passed. `nowMs` is the caller's monotonic time. */
  update(done: number, nowMs: number, extra: string): void {
    if (!this.enabled || nowMs - this.lastDraw < 100) return;
    this.lastDraw = nowMs;
    const width = 30;
    let bar: string;
    if (this.total !== undefined && this.total > 0) {
      const filled = Math.min(width, Math.round((done / this.total) * width));
      bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${this.total}`;
    } else {
      bar = `${done} frames`;
    }
    this.stream.write(`\r\x1b[2K${this.label} ${bar} ${extra}`);
  }

  /** Clears the line. */
  finish(): void {
    if (this.enabled) this.stream.write('\r\x1b[2K');
  }
}
