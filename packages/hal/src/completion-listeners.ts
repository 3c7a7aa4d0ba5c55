// The completion listeners of a capture engine: called once per completion batch, without allocating.
import type { Logger } from 'pino';

/**
 * Listeners of {@link CaptureEngine.onCompletion}. The list is copy-on-write: `add` and the
 * returned remover (rare) replace the array, and `notify` (per frame) walks the array it started
 * with, so a listener that unsubscribes itself or another during `notify` neither makes the next
 * one miss this completion nor costs an allocation per frame. A throwing listener is logged at
 * `error` and the others still run: a user callback never stalls the engine.
 */
export class CompletionListeners {
  private list: ReadonlyArray<(count: number) => void> = [];

  constructor(private readonly logger: Logger) {}

  /**
   * Adds `listener`; returns a function that removes it (idempotent).
   * @throws TypeError when `listener` is not a function.
   */
  add(listener: (count: number) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    this.list = [...this.list, listener];
    let added = true;
    return () => {
      if (!added) return;
      added = false;
      const i = this.list.indexOf(listener);
      if (i >= 0) this.list = [...this.list.slice(0, i), ...this.list.slice(i + 1)];
    };
  }

  /** Calls every listener with the completion count. */
  notify(count: number): void {
    const list = this.list;
    for (let i = 0; i < list.length; i++) {
      try {
        list[i]!(count);
      } catch (err) {
        this.logger.error({ err }, 'completion listener threw');
      }
    }
  }

  /** Removes every listener (engine close). */
  clear(): void {
    this.list = [];
  }

  get size(): number {
    return this.list.length;
  }
}
