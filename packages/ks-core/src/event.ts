// Typed event emitter whose emit never throws: listener errors are caught and re-emitted as 'listenerError'.

/** An event map: event name → tuple of listener arguments. */
export type EventMap = { [event: string]: unknown[] };

/** Listener of event `K` of map `E`. */
export type Listener<E extends EventMap, K extends keyof E> = (...args: E[K]) => void;

type AnyListener = (...args: unknown[]) => void;

/** Events every {@link TypedEmitter} may emit in addition to its own map. */
export interface EmitterBaseEvents {
  [event: string]: unknown[];
  /** A listener threw; `error` is what it threw, `event` the event it was handling. */
  listenerError: [error: unknown, event: string];
}

/**
 * A small synchronous typed emitter. `emit` calls listeners in registration order and catches
 * anything they throw, re-emitting it as `listenerError`; an error from a `listenerError`
 * listener is passed to `onUnhandled` (default: dropped) rather than propagated. So a user
 * callback can never stall streaming or unwind into ks-core's state machine.
 */
export class TypedEmitter<E extends EventMap> {
  readonly #listeners = new Map<keyof E | 'listenerError', Array<AnyListener>>();
  readonly #onUnhandled: ((error: unknown, event: string) => void) | undefined;

  /** @param onUnhandled receives errors thrown by `listenerError` listeners themselves. */
  constructor(onUnhandled?: (error: unknown, event: string) => void) {
    this.#onUnhandled = onUnhandled;
  }

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof (E & EmitterBaseEvents)>(
    event: K,
    listener: Listener<E & EmitterBaseEvents, K>,
  ): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    const list = this.#listeners.get(event as keyof E) ?? [];
    list.push(listener as unknown as AnyListener);
    this.#listeners.set(event as keyof E, list);
    return () => this.off(event, listener);
  }

  /** Adds a listener that removes itself after the first call. */
  once<K extends keyof (E & EmitterBaseEvents)>(
    event: K,
    listener: Listener<E & EmitterBaseEvents, K>,
  ): () => void {
    const off = this.on(event, ((...args: (E & EmitterBaseEvents)[K]) => {
      off();
      listener(...args);
    }) as Listener<E & EmitterBaseEvents, K>);
    return off;
  }

  /** Removes a listener (no-op if absent). */
  off<K extends keyof (E & EmitterBaseEvents)>(event: K, listener: Listener<E & EmitterBaseEvents, K>): void {
    const list = this.#listeners.get(event as keyof E);
    if (list === undefined) return;
    const i = list.indexOf(listener as unknown as AnyListener);
    if (i >= 0) list.splice(i, 1);
  }

  /** Number of listeners of `event`. */
  listenerCount(event: keyof (E & EmitterBaseEvents)): number {
    return this.#listeners.get(event as keyof E)?.length ?? 0;
  }

  /** Removes every listener (used by close). */
  removeAllListeners(): void {
    this.#listeners.clear();
  }

  /**
   * Calls each listener of `event` with `args`. Never throws.
   * @returns whether any listener was registered.
   */
  emit<K extends keyof E>(event: K, ...args: E[K]): boolean {
    return this.#emit(event, args);
  }

  #emit(event: keyof E | 'listenerError', args: unknown[]): boolean {
    const list = this.#listeners.get(event);
    if (list === undefined || list.length === 0) return false;
    // Copy so listeners may add/remove listeners while we iterate.
    for (const listener of [...list]) {
      try {
        listener(...args);
      } catch (error) {
        if (event === 'listenerError') {
          try {
            this.#onUnhandled?.(error, String(args[1]));
          } catch {
            // Last resort: nothing sensible remains to be done with an error from the error handler.
          }
        } else if (!this.#emit('listenerError', [error, String(event)])) {
          try {
            this.#onUnhandled?.(error, String(event));
          } catch {
            // See above.
          }
        }
      }
    }
    return true;
  }
}
