// Typed event listeners whose errors are caught, so a user callback can never stall a device.
import type { Logger } from 'pino';

/** A map from event name to the listener's argument tuple. */
export type EventMap = Record<string, readonly unknown[]>;

/** Subscription side of an {@link EventHub}; what devices expose publicly. */
export interface EventSource<E extends EventMap> {
  /** Adds a listener; returns a function that removes it (idempotent). */
  on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): () => void;
  /** Removes a listener added with `on` (no-op when absent). */
  off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): void;
}

type AnyListener = (...args: never) => void;

/**
 * Listener registry. `emit` calls listeners in subscription order on a snapshot (a listener
 * may unsubscribe during emit); a throwing listener is logged at `error` and the others still
 * run. Not for the per-frame path (it allocates a snapshot per emit).
 */
export class EventHub<E extends EventMap> implements EventSource<E> {
  private readonly listeners = new Map<keyof E, Array<AnyListener>>();

  constructor(private readonly logger?: Logger) {}

  on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    const list = this.listeners.get(event) ?? [];
    list.push(listener as unknown as AnyListener);
    this.listeners.set(event, list);
    return () => this.off(event, listener);
  }

  off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): void {
    const list = this.listeners.get(event);
    if (list === undefined) return;
    const i = list.indexOf(listener as unknown as AnyListener);
    if (i >= 0) list.splice(i, 1);
  }

  /** Number of listeners of `event`. */
  listenerCount(event: keyof E & string): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  emit<K extends keyof E & string>(event: K, ...args: E[K]): void {
    const list = this.listeners.get(event);
    if (list === undefined || list.length === 0) return;
    for (const listener of list.slice()) {
      try {
        (listener as unknown as (...a: E[K]) => void)(...args);
      } catch (err) {
        this.logger?.error({ err, event }, 'event listener threw');
      }
    }
  }
}
