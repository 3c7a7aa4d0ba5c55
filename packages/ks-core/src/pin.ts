// KsPin: a pin instance with one state union, single-step STOP↔ACQUIRE↔PAUSE↔RUN transitions, format, frame pool + queue, clocks and properties.
import { resolveFraming, type ResolvedFraming } from './allocator-framing.js';
import { encodeVideoFormat, KS_DATAFORMAT_VIDEOINFOHEADER_SIZE } from './ks-data-format.js';
import type { Clock } from './clock.js';
import type { PinDescriptor } from './descriptors.js';
import { EventSets } from './event-set.js';
import { TypedEmitter, type EmitterBaseEvents, type Listener } from './event.js';
import { FramePool } from './frame-pool.js';
import type { FrameStream, FrameStreamHandle } from './frame-stream.js';
import { intersectRanges, requestOf, type FormatRequest, type IntersectionResult } from './intersection.js';
import { KsError, KsStateError } from './ks-error.js';
import { ksTime, type KsTime } from './ks-time.js';
import { MediaSubtype, PropSetId } from './known-guids.js';
import { ConnectionProperty, KsStateValue } from './property-ids.js';
import type { AutomationTable, PropertyItem } from './property-set.js';
import type { Logger } from './logger.js';
import { PinClock } from './pin-clock.js';
import { PropertyHandler, type PropertyFallback } from './property-handler.js';
import { KsQueue } from './queue.js';
import { FrameStatus } from './stream-header.js';
import { describeFormat, type DataFormat } from './video-format.js';

/** KSSTATE: the streaming states of a pin, in order. */
export type KsState = 'stop' | 'acquire' | 'pause' | 'run';

/** The states in order; a transition moves one position at a time. */
export const KS_STATES: readonly KsState[] = Object.freeze(['stop', 'acquire', 'pause', 'run']);

/** What `pin.state` reports: a KSSTATE, or a terminal condition. */
export type PinStatus = KsState | 'closed' | 'removed';

/**
 * The minidriver's per-pin-type dispatch (KSPIN_DISPATCH). Every member is optional. `F` is the
 * filter context type, `P` the pin context type (what `create` returns). Calls are serialised per
 * pin: ks-core never calls into one pin's dispatch concurrently.
 */
export interface PinDispatch<F = unknown, P = unknown> {
  /**
   * A pin instance is being created (Context: no format yet or the creation format, state STOP).
   * Must not take hardware. Returns the pin context. Throw a KsError to refuse.
   */
  create?(pin: KsPin, filterContext: F): P | Promise<P>;
  /** The pin is closing (already in STOP, or the device was removed). Release everything; errors are logged, not propagated. */
  close?(pin: KsPin, context: P): void | Promise<void>;
  /**
   * Refines ks-core's default intersection (`intersectRanges(descriptor.dataRanges, request)`),
   * e.g. to reflect what the hardware currently allows. Pure; must not change state.
   */
  intersect?(
    pin: KsPin,
    request: FormatRequest,
    proposed: IntersectionResult,
    context: P,
  ): IntersectionResult;
  /** A validated format is about to be set (Context: STOP). Throw a KsError to refuse; the old format stays. */
  setFormat?(pin: KsPin, format: DataFormat, context: P): void | Promise<void>;
  /**
   * One single-step state change, `from` → `to` (adjacent states). STOP→ACQUIRE is where hardware
   * is taken (`pin.pool` exists from here; register it with the device); ACQUIRE→STOP releases it.
   * PAUSE→RUN starts the hardware (the queue is already running, `pin.queue.takeFrame()` works);
   * RUN→PAUSE stops it. PAUSE→RUN after a pause resumes the same run: the queue kept its frame
   * numbering and time base, so hardware that reports frame indices numbers the next frame
   * `pin.queue.nextFrameIndex` (not by the time spent paused, which would count as drops). PAUSE→ACQUIRE: stop the hardware and cancel its clones
   * (`pin.queue.cancelAll(channel)`); ks-core then stops the queue: frames delivered and not taken
   * come back at once, frames the consumer holds within the device's stop grace period (then they
   * are revoked), so the step never hangs on a consumer.
   * Throwing on an upward step leaves the pin in `from`; downward steps always complete (errors are
   * reported after the pin reached the target).
   */
  setState?(pin: KsPin, to: KsState, from: KsState, context: P): void | Promise<void>;
  /**
   * Process (AVStream pin-centric processing): frames are available at the leading edge. Called by
   * ks-core on entering RUN and whenever `pin.attemptProcessing()` is called in RUN. Synchronous and
   * allocation-free in steady state; never called re-entrantly.
   */
  process?(pin: KsPin, context: P): void;
  /**
   * Provides the frame pool's memory at STOP→ACQUIRE (before `setState`), so the hardware side can
   * supply memory it fills fastest. Must return a zeroed SharedArrayBuffer of at least
   * `byteLength` bytes. Default: a plain SharedArrayBuffer.
   */
  allocateMemory?(pin: KsPin, byteLength: number, context: P): SharedArrayBuffer;
}

/** What a pin needs from its filter (implemented by KsFilter). */
export interface PinOwner {
  /** For messages, e.g. `filter 'Camera' #0`. */
  readonly label: string;
  readonly logger: Logger;
  /** The device clock (reference time); also times the stop grace period. */
  readonly clock: Clock;
  /** How long a stop waits for the consumer's held frames before revoking them (see `KsQueue.stop`). */
  readonly stopGrace: KsTime;
  /** The filter-wide master clock, if one was assigned. */
  readonly masterClock: Clock | undefined;
  /** Throws (typed) when the filter/device can no longer take calls. */
  guard(operation: string): void;
  /** Minidriver property fallback for pin properties. */
  readonly propertyFallback: PropertyFallback | undefined;
  /** @internal The pin closed (drop it from the filter's list). */
  pinClosed(pin: KsPin): void;
  /**
   * @internal Throws `KsNecessaryInstancesError` unless every pin type of the filter has its necessary
   * instances (checked at STOP→ACQUIRE).
   */
  requireNecessaryInstances(pin: KsPin, operation: string): void;
}

/** Events of a pin. */
export interface PinEvents {
  [event: string]: unknown[];
  /** Each single step, after the minidriver accepted it. */
  stateChange: [to: KsState, from: KsState];
  formatChange: [format: DataFormat];
  /** STOP→ACQUIRE allocated the pool and queue (before the minidriver's dispatch): attach observers here. */
  acquired: [pool: FramePool, queue: KsQueue];
  /** The device was removed: outstanding frames completed with Disconnected. */
  removed: [cause: unknown];
  closed: [];
}

type Streaming = {
  readonly framing: ResolvedFraming;
  readonly pool: FramePool;
  readonly queue: KsQueue;
};

/** The pin's state: one discriminated union (no flag soup). */
type PinState =
  | { readonly kind: 'stop' }
  | ({ readonly kind: 'acquire' | 'pause' | 'run' } & Streaming)
  | { readonly kind: 'closed' }
  | { readonly kind: 'removed'; readonly cause: unknown; readonly streaming: Streaming | undefined };

/** Construction options (ks-core internal: pins are created by `KsFilter.createPin`). */
export interface KsPinInit {
  readonly owner: PinOwner;
  readonly id: number;
  readonly instance: number;
  readonly descriptor: PinDescriptor;
  readonly dispatch: PinDispatch | undefined;
  readonly logger: Logger;
}

function streamingState(kind: KsState, s: Streaming): PinState {
  if (kind === 'stop') return { kind };
  return { kind, framing: s.framing, pool: s.pool, queue: s.queue };
}

function streamingOf(s: PinState): Streaming | undefined {
  if (s.kind === 'acquire' || s.kind === 'pause' || s.kind === 'run') return s;
  if (s.kind === 'removed') return s.streaming;
  return undefined;
}

/**
 * A pin instance. Created by `filter.createPin(id)`; starts in STOP without hardware.
 *
 * Lifecycle: `setFormat` (STOP) → `setState('run')` (steps STOP→ACQUIRE→PAUSE→RUN, each
 * dispatched) → consume `pin.frames()` and `release()` each frame → `setState('stop')` (resolves
 * when every slot is back) → `close()`. Wrong-state calls throw {@link KsStateError}; after
 * hot-unplug every call throws `KsError('Disconnected')`; after close, `KsStateError` with code
 * `Closed`.
 */
export class KsPin {
  /** Pin type id (index into the filter descriptor's pins). */
  readonly id: number;
  /** Instance number among pins of this type (0-based, in creation order). */
  readonly instance: number;
  readonly descriptor: PinDescriptor;
  /** Property sets of the pin's automation table (see PropertyHandler). */
  readonly properties: PropertyHandler;
  /** Event sets of the pin's automation table. */
  readonly events: EventSets;
  readonly #owner: PinOwner;
  readonly #dispatch: PinDispatch;
  readonly #log: Logger;
  readonly #emitter: TypedEmitter<PinEvents>;
  #state: PinState = { kind: 'stop' };
  #context: unknown;
  #format: DataFormat | undefined;
  #masterClock: Clock | undefined;
  #clock: PinClock | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #transitioning = false;
  #processing = false;
  #processAgain = false;

  /** @internal Use `filter.createPin()`. */
  constructor(init: KsPinInit) {
    this.id = init.id;
    this.instance = init.instance;
    this.descriptor = init.descriptor;
    this.#owner = init.owner;
    this.#dispatch = init.dispatch ?? {};
    this.#log = init.logger;
    this.#emitter = new TypedEmitter<PinEvents>((error, event) =>
      this.#log.error({ err: error, event }, 'listenerError listener threw'),
    );
    this.properties = new PropertyHandler({
      owner: this.label,
      table: withConnectionSet(init.descriptor.automation, this),
      ...(init.descriptor.automation?.properties?.some((ps) => ps.set === PropSetId.Connection) === true
        ? {}
        : { builtInSets: new Set([PropSetId.Connection]) }),
      context: () => this.#context,
      guard: (op) => this.#guard(op),
      logger: this.#log,
      ...(init.owner.propertyFallback === undefined ? {} : { fallback: init.owner.propertyFallback }),
    });
    this.events = new EventSets({
      owner: this.label,
      table: init.descriptor.automation,
      guard: (op) => this.#guard(op),
      onListenerError: (error, event) => this.#listenerError(error, event),
    });
  }

  /** @internal Runs the dispatch's create; called once by the filter. */
  async initialise(filterContext: unknown): Promise<void> {
    if (this.#dispatch.create !== undefined) {
      try {
        this.#context = await this.#dispatch.create(this, filterContext);
      } catch (err) {
        throw KsError.from(err, 'DeviceFailure', `${this.label}: minidriver refused to create the pin`);
      }
    }
  }

  /** e.g. `pin 0 (Capture) #0 of filter 'Camera' #0`. */
  get label(): string {
    return `pin ${this.id} (${this.descriptor.name}) #${this.instance} of ${this.#owner.label}`;
  }

  /** Display name of the pin type. */
  get name(): string {
    return this.descriptor.name;
  }

  /** Current state: a KSSTATE, `closed` or `removed`. */
  get state(): PinStatus {
    return this.#state.kind;
  }

  /**
   * True from the first PAUSE→RUN after ACQUIRE until the pin drops back to ACQUIRE: the run's time
   * base is fixed (also while paused), so its master clock cannot change.
   */
  get midRun(): boolean {
    const s = this.#state;
    return (s.kind === 'run' || s.kind === 'pause') && s.queue.state !== 'stopped';
  }

  /** True while a state change is in progress. */
  get transitioning(): boolean {
    return this.#transitioning;
  }

  /** The minidriver's pin context (what `PinDispatch.create` returned). */
  get context(): unknown {
    return this.#context;
  }

  /** The current format, or `undefined` before `setFormat`. */
  get format(): DataFormat | undefined {
    return this.#format;
  }

  /** Frame geometry of the current pool (ACQUIRE, PAUSE, RUN). @throws KsStateError otherwise. */
  get framing(): ResolvedFraming {
    return this.#streaming('framing').framing;
  }

  /**
   * The pin's frame pool (owned by the pin from STOP→ACQUIRE until ACQUIRE→STOP; borrow it).
   * Still readable after removal, for cleanup.
   * @throws KsStateError outside ACQUIRE/PAUSE/RUN (and removed-while-streaming).
   */
  get pool(): FramePool {
    return this.#streaming('pool').pool;
  }

  /**
   * The pin's queue (the minidriver's view: leading edge, clones, completions).
   * @throws KsStateError outside ACQUIRE/PAUSE/RUN.
   */
  get queue(): KsQueue {
    return this.#streaming('queue').queue;
  }

  /** The clock the pin stamps against: its own master clock, else the filter's, else the device clock. */
  get masterClock(): Clock {
    return this.#masterClock ?? this.#owner.masterClock ?? this.#owner.clock;
  }

  /** Adds an event listener; returns an unsubscribe function. Listener errors become `listenerError`. */
  on<K extends keyof (PinEvents & EmitterBaseEvents)>(
    event: K,
    listener: Listener<PinEvents & EmitterBaseEvents, K>,
  ): () => void {
    return this.#emitter.on(event, listener);
  }

  /** The pin's data ranges (from its descriptor). */
  get dataRanges(): PinDescriptor['dataRanges'] {
    return this.descriptor.dataRanges;
  }

  /**
   * Pure negotiation: what format the pin would accept for `request`. Changes nothing.
   * Context: any state except closed/removed.
   */
  proposeFormat(request: FormatRequest): IntersectionResult {
    this.#guard('proposeFormat');
    const proposed = intersectRanges(this.descriptor.dataRanges, request);
    if (this.#dispatch.intersect === undefined) return proposed;
    return this.#dispatch.intersect(this, request, proposed, this.#context);
  }

  /**
   * Sets the format. The request must intersect as `valid` with the data ranges (after the
   * minidriver's `intersect`); an `adjusted` result is only applied with `acceptAdjusted: true`,
   * so nothing changes silently. Context: STOP.
   * @returns the format now set.
   * @throws KsStateError outside STOP; KsError NoMatch (invalid, or adjusted without
   *   acceptAdjusted: the message lists the adjustments); the minidriver's KsError.
   */
  setFormat(
    request: FormatRequest | DataFormat,
    options: { acceptAdjusted?: boolean } = {},
  ): Promise<DataFormat> {
    return this.#serial('setFormat', async () => {
      this.#requireState('setFormat', ['stop']);
      const req =
        'kind' in request && (request.kind === 'video' || request.kind === 'generic')
          ? requestOf(request as DataFormat)
          : (request as FormatRequest);
      const result = this.proposeFormat(req);
      if (result.status === 'invalid') throw new KsError('NoMatch', `${this.label}: ${result.reason}`);
      if (result.status === 'adjusted' && options.acceptAdjusted !== true) {
        throw new KsError(
          'NoMatch',
          `${this.label}: the request needs adjusting (${result.reason}); pass acceptAdjusted or request the proposed format`,
        );
      }
      if (this.#dispatch.setFormat !== undefined) {
        try {
          await this.#dispatch.setFormat(this, result.format, this.#context);
        } catch (err) {
          throw KsError.from(
            err,
            'DeviceFailure',
            `${this.label}: minidriver refused format ${describeFormat(result.format)}`,
          );
        }
      }
      this.#format = result.format;
      this.#log.debug({ format: describeFormat(result.format) }, 'format set');
      this.#emitter.emit('formatChange', result.format);
      return result.format;
    });
  }

  /**
   * Moves to `target` one step at a time, dispatching each step (STOP→RUN is three steps). Calls
   * are serialised. Going down to ACQUIRE/STOP stops the queue (`KsQueue.stop`) and resolves when
   * every slot is back: frames delivered and not taken by the consumer are reclaimed at once, the
   * consumer's stream ends, and frames it holds are waited for at most the device's `stopGrace`
   * (on the device clock), then revoked: their late `release()` returns false and changes nothing
   * (see `Frame`). So a consumer that stops reading never stalls a stop.
   * Timestamps: the first PAUSE→RUN after ACQUIRE starts the run's time base (the master clock's
   * time then); frame n is presented at `start + n × period`. A later RUN→PAUSE→RUN keeps that
   * base and the numbering: presentation times continue from the pause point (stream time stands
   * still in PAUSE, as does the pin's own clock), with no jump by the paused time and no repeat.
   * Context: any KSSTATE; ACQUIRE and above need a format, and leaving STOP needs every pin type of
   * the filter at its `instances.necessary` count (KSPIN_DESCRIPTOR_EX.InstancesNecessary).
   * @throws TypeError for an unknown state; KsNecessaryInstancesError (a KsStateError, code
   *   InvalidDeviceState; the pin stays in STOP) when leaving STOP while the filter lacks necessary
   *   pin instances; KsError InvalidDeviceRequest without a format;
   *   KsError from the minidriver (the pin stays in the last state reached); KsError
   *   Disconnected after removal; KsStateError (code Closed) after close.
   */
  setState(target: KsState): Promise<void> {
    if (!KS_STATES.includes(target))
      return Promise.reject(new TypeError(`unknown pin state ${String(target)}`));
    return this.#serial('setState', () => this.#stepTo(target));
  }

  /** `setState('run')`. */
  run(): Promise<void> {
    return this.setState('run');
  }

  /** `setState('pause')`. */
  pause(): Promise<void> {
    return this.setState('pause');
  }

  /**
   * `setState('stop')`: resolves when the hardware is released and every frame is back (frames the
   * consumer still holds when the stop grace period ends are revoked, see `setState`).
   */
  stop(): Promise<void> {
    return this.setState('stop');
  }

  /**
   * The consumer iterator of this run: `for await (const frame of pin.frames()) { …; frame.release() }`.
   * Ends at the next stop (frames not taken by then are reclaimed) or removal (the `Disconnected`
   * frames stay readable for the grace period). One consumer at a time; the attachment lapses with
   * the stop that ends it. Frames held past the stop grace period are revoked (see `Frame`).
   * Context: ACQUIRE, PAUSE, RUN.
   * @throws KsStateError in other states or when a consumer is already attached.
   */
  frames(): FrameStream {
    this.#guard('frames');
    return this.#streaming('frames').queue.frames();
  }

  /**
   * A structured-cloneable handle for a consumer in a Worker (`attachFrameStream(handle)` there).
   * Same rules as `frames()`, including revocation at stop: a Worker's late release is a counted
   * stale release. Context: ACQUIRE, PAUSE, RUN.
   */
  shareFrames(): FrameStreamHandle {
    this.#guard('shareFrames');
    return this.#streaming('shareFrames').queue.shareStream();
  }

  /**
   * KsPinAttemptProcessing: asks for a `process` dispatch now (minidrivers call it from their
   * completion handling when frames may be available). Ignored outside RUN; a call made during
   * `process` makes it run once more afterwards instead of re-entering.
   */
  attemptProcessing(): void {
    if (this.#state.kind !== 'run' || this.#dispatch.process === undefined) return;
    if (this.#processing) {
      this.#processAgain = true;
      return;
    }
    this.#processing = true;
    try {
      do {
        this.#processAgain = false;
        this.#dispatch.process(this, this.#context);
      } while (this.#processAgain && this.#state.kind === 'run');
    } catch (err) {
      // A minidriver bug must not unwind into the caller (often a hardware interrupt path).
      this.#log.error({ err }, 'process dispatch threw');
      this.#emitter.emit('listenerError', err, 'process');
    } finally {
      this.#processing = false;
    }
  }

  /**
   * Assigns this pin's master clock (KSPROPERTY_STREAM_MASTERCLOCK); `null` reverts to the
   * filter's/device's. Context: STOP, ACQUIRE, or PAUSE before the run's first RUN; not while
   * running nor paused mid-run (`midRun`), so the timestamps of a run, also across a pause, share
   * one time base.
   * @throws KsStateError in RUN, or in PAUSE mid-run (current `pause (mid-run)`); TypeError for
   *   a value that is not a Clock.
   */
  setMasterClock(clock: Clock | null): void {
    this.#guard('setMasterClock');
    this.#requireState('setMasterClock', ['stop', 'acquire', 'pause']);
    if (this.midRun) {
      throw new KsStateError(this.label, 'setMasterClock', 'pause (mid-run)', [
        'stop',
        'acquire',
        'pause before the first run',
      ]);
    }
    if (
      clock !== null &&
      (typeof clock !== 'object' || typeof clock.now !== 'function' || typeof clock.schedule !== 'function')
    ) {
      throw new TypeError('master clock must implement Clock (now, schedule)');
    }
    this.#masterClock = clock ?? undefined;
  }

  /**
   * The clock this pin provides (its stream time), for use as another pin's master clock.
   * @throws KsError InvalidDeviceRequest when the descriptor does not say `providesClock`.
   */
  clock(): PinClock {
    this.#guard('clock');
    if (!this.descriptor.providesClock)
      throw new KsError('InvalidDeviceRequest', `${this.label} does not provide a clock`);
    this.#clock ??= new PinClock(this.#owner.clock);
    return this.#clock;
  }

  /**
   * Stops (if needed: every frame comes back, held ones revoked after the stop grace period) and
   * closes the pin. Idempotent; after removal it finishes the cleanup and takes back at once what
   * the consumer still has (revoked, see `Frame`).
   */
  close(): Promise<void> {
    if (this.#state.kind === 'closed') return Promise.resolve();
    return this.#serial(
      'close',
      async () => {
        const state = this.#state;
        if (state.kind === 'closed') return;
        let firstError: unknown;
        if (state.kind !== 'removed' && state.kind !== 'stop') {
          try {
            await this.#stepTo('stop');
          } catch (err) {
            firstError = err;
          }
        }
        if (this.#state.kind !== 'removed') await this.#callClose();
        else {
          // Closing after hot-unplug: nobody may read the stream any more, so whatever the consumer
          // still has comes back now instead of at the end of the grace period.
          streamingOf(this.#state)?.queue.reclaimFromConsumer();
        }
        this.#state = { kind: 'closed' };
        this.properties.dispose();
        this.events.dispose();
        this.#owner.pinClosed(this);
        this.#log.debug('pin closed');
        this.#emitter.emit('closed');
        this.#emitter.removeAllListeners();
        if (firstError !== undefined) throw firstError;
      },
      true,
    );
  }

  /**
   * @internal Hot-unplug (called through `device.surpriseRemoval()`): outstanding frames complete
   * with `Disconnected`, the stream ends, the minidriver's `close` runs, every later call throws
   * `KsError('Disconnected')`. Does not wait for the consumer to release frames (see `drained`):
   * the `Disconnected` frames stay readable by the consumer, and whatever it has not taken or
   * released when the stop grace period ends is taken back.
   */
  async remove(cause: unknown): Promise<void> {
    const state = this.#state;
    if (state.kind === 'closed' || state.kind === 'removed') return;
    const streaming = streamingOf(state);
    this.#state = { kind: 'removed', cause, streaming };
    this.#clock?.reset();
    if (streaming !== undefined) {
      try {
        streaming.queue.completeAll(FrameStatus.Disconnected);
        // The Disconnected frames stay readable for the grace period: they tell the consumer why.
        void streaming.queue.stop(undefined, { keepDelivered: true });
      } catch (err) {
        this.#log.error({ err }, 'completing frames on removal failed');
      }
    }
    await this.#callClose();
    this.#log.warn('pin removed with its device');
    this.#emitter.emit('removed', cause);
  }

  /**
   * Resolves when no slot of the pool is outstanding (at once when there is no pool). After a
   * stop or removal that is at most the stop grace period (on the device clock) away.
   */
  drained(): Promise<void> {
    const streaming = streamingOf(this.#state);
    return streaming === undefined ? Promise.resolve() : streaming.pool.whenAllFree();
  }

  // ---- internals ----

  #guard(operation: string): void {
    const s = this.#state;
    if (s.kind === 'closed') throw new KsStateError(this.label, operation, 'closed', ['open'], 'Closed');
    if (s.kind === 'removed')
      throw new KsError('Disconnected', `${this.label}: ${operation}() failed: the device was removed`, {
        cause: s.cause,
      });
    this.#owner.guard(operation);
  }

  #requireState(operation: string, allowed: readonly KsState[]): void {
    this.#guard(operation);
    const kind = this.#state.kind as KsState;
    if (!allowed.includes(kind)) throw new KsStateError(this.label, operation, kind, allowed);
  }

  #streaming(operation: string): Streaming {
    const s = streamingOf(this.#state);
    // After removal the pool and queue stay readable (a minidriver's close may still need them).
    if (s !== undefined) return s;
    if (this.#state.kind === 'removed' || this.#state.kind === 'closed') this.#guard(operation);
    throw new KsStateError(this.label, operation, this.#state.kind, ['acquire', 'pause', 'run']);
  }

  /** Serialises state-changing calls; `allowClosed` lets close run its own checks. */
  #serial<T>(operation: string, fn: () => Promise<T>, allowClosed = false): Promise<T> {
    if (!allowClosed) {
      try {
        this.#guard(operation);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #stepTo(target: KsState): Promise<void> {
    this.#guard('setState');
    let firstDownError: unknown;
    this.#transitioning = true;
    try {
      for (;;) {
        const kind = this.#state.kind;
        if (kind === 'removed' || kind === 'closed') this.#guard('setState');
        const from = kind as KsState;
        const i = KS_STATES.indexOf(from);
        const j = KS_STATES.indexOf(target);
        if (i === j) break;
        const to = KS_STATES[i < j ? i + 1 : i - 1]!;
        if (i < j) await this.#stepUp(from, to);
        else {
          try {
            await this.#stepDown(from, to);
          } catch (err) {
            firstDownError ??= err;
          }
        }
      }
    } finally {
      this.#transitioning = false;
    }
    if (firstDownError !== undefined) throw firstDownError;
  }

  async #stepUp(from: KsState, to: KsState): Promise<void> {
    if (from === 'stop') {
      // AVStream's rule (KSPIN_DESCRIPTOR_EX.InstancesNecessary): a filter streams only with every
      // necessary pin instance present. Checked before anything is allocated or dispatched.
      this.#owner.requireNecessaryInstances(this, 'setState');
      const format = this.#format;
      if (format === undefined) {
        throw new KsError(
          'InvalidDeviceRequest',
          `${this.label}: setState(acquire) needs a format; call setFormat() first`,
        );
      }
      let framing: ResolvedFraming;
      try {
        framing = resolveFraming(this.descriptor.framing, format);
      } catch (err) {
        throw KsError.from(err, 'InsufficientResources', `${this.label}: cannot allocate frames`);
      }
      const allocateMemory = this.#dispatch.allocateMemory;
      let pool: FramePool;
      try {
        pool = FramePool.allocate(
          {
            slotCount: framing.frames,
            dataBytes: framing.frameSize,
            alignment: framing.alignment > 64 ? 4096 : 64,
            planeOffsets: planeOffsetsOf(format),
          },
          allocateMemory
            ? { memory: (bytes) => allocateMemory.call(this.#dispatch, this, bytes, this.#context) }
            : {},
        );
      } catch (err) {
        throw KsError.from(err, 'InsufficientResources', `${this.label}: cannot allocate the frame pool`);
      }
      const queue = new KsQueue(pool, {
        logger: this.#log,
        name: this.label,
        clock: this.#owner.clock,
        stopGrace: this.#owner.stopGrace,
      });
      const streaming: Streaming = { framing, pool, queue };
      // The pool exists before the dispatch so the minidriver can register it with the hardware.
      this.#state = streamingState('acquire', streaming);
      this.#emitter.emit('acquired', pool, queue);
      try {
        await this.#callSetState(to, from);
      } catch (err) {
        if (this.#state.kind === 'acquire') this.#state = { kind: 'stop' };
        throw err;
      }
      this.#afterStep(to, from);
      return;
    }
    const streaming = this.#streaming('setState');
    if (from === 'pause' && to === 'run') {
      // The queue runs from the first RUN until the pin drops to ACQUIRE; a pause keeps frames queued.
      if (streaming.queue.state === 'stopped') {
        const format = this.#format!;
        // Generic (non-video) streams have no frame rate: their frames are numbered, not timed.
        const period = format.kind === 'video' ? format.frameInterval : ksTime(1);
        streaming.queue.start({ start: this.masterClock.now(), period });
      }
      this.#state = streamingState('run', streaming);
      try {
        await this.#callSetState(to, from);
      } catch (err) {
        if (this.#state.kind === 'run') this.#state = streamingState('pause', streaming);
        throw err;
      }
      this.#afterStep(to, from);
      this.#clock?.start();
      this.attemptProcessing();
      return;
    }
    await this.#callSetState(to, from);
    if (this.#state.kind === from) this.#state = streamingState(to, streaming);
    this.#afterStep(to, from);
  }

  async #stepDown(from: KsState, to: KsState): Promise<void> {
    const streaming = this.#streaming('setState');
    let error: unknown;
    try {
      await this.#callSetState(to, from);
    } catch (err) {
      error = err;
    }
    if (this.#state.kind !== from) {
      // Removed (or closed) during the dispatch: removal already ended the stream.
      if (error !== undefined) throw error;
      return;
    }
    if (from === 'run') {
      this.#clock?.pause();
      this.#state = streamingState('pause', streaming);
    } else {
      if (from === 'pause') {
        // The hardware has stopped: cancel whatever it still holds, then wait (at most the grace
        // period) for the consumer.
        streaming.queue.cancelAll();
      }
      await streaming.queue.stop();
      if (this.#state.kind !== from) {
        // Removed while waiting for the consumer: the pin stays removed (the caller's step loop
        // reports Disconnected).
        if (error !== undefined) throw error;
        return;
      }
      if (from === 'pause') this.#state = streamingState('acquire', streaming);
      else {
        this.#clock?.reset();
        this.#state = { kind: 'stop' };
      }
    }
    this.#afterStep(to, from);
    if (error !== undefined) throw error;
  }

  async #callSetState(to: KsState, from: KsState): Promise<void> {
    if (this.#dispatch.setState === undefined) return;
    try {
      await this.#dispatch.setState(this, to, from, this.#context);
    } catch (err) {
      throw KsError.from(err, 'DeviceFailure', `${this.label}: minidriver failed ${from} → ${to}`);
    }
  }

  #afterStep(to: KsState, from: KsState): void {
    this.#log.debug({ from, to }, 'state changed');
    this.#emitter.emit('stateChange', to, from);
  }

  async #callClose(): Promise<void> {
    if (this.#dispatch.close === undefined) return;
    try {
      await this.#dispatch.close(this, this.#context);
    } catch (err) {
      this.#log.error({ err }, 'close dispatch threw');
      this.#emitter.emit('listenerError', err, 'close');
    }
  }

  #listenerError(error: unknown, event: string): void {
    this.#emitter.emit('listenerError', error, event);
  }
}

/**
 * Adds the built-in KSPROPSETID_Connection set to a pin's automation table, unless the
 * descriptor declares that set itself: STATE (KSSTATE ULONG, settable), ALLOCATORFRAMING
 * (KSALLOCATOR_FRAMING, read-only) and, for video pins, DATAFORMAT
 * (KS_DATAFORMAT_VIDEOINFOHEADER, read-only).
 */
function withConnectionSet(table: AutomationTable | undefined, pin: KsPin): AutomationTable {
  const own = table?.properties ?? [];
  if (own.some((ps) => ps.set === PropSetId.Connection)) return table!;
  const items: PropertyItem[] = [
    {
      id: ConnectionProperty.State,
      name: 'State',
      type: 'uint32',
      min: 0,
      max: 3,
      get: () => KsStateValue[pin.state as KsState] ?? 0,
      set: (_ctx, value) => pin.setState(KS_STATES[value as number]!),
    },
    {
      // KSALLOCATOR_FRAMING: OptionsFlags, PoolType, Frames, FrameSize, FileAlignment, Reserved.
      id: ConnectionProperty.AllocatorFraming,
      name: 'AllocatorFraming',
      type: 'bytes',
      size: 24,
      access: 'readonly',
      get: () => {
        const format = pin.format;
        if (format === undefined)
          throw new KsError('InvalidDeviceRequest', `${pin.label} has no data format yet`);
        const framing = pin.state === 'stop' ? resolveFraming(pin.descriptor.framing, format) : pin.framing;
        const out = new Uint8Array(24);
        const v = new DataView(out.buffer);
        v.setUint32(0, KSALLOCATOR_OPTIONF_SYSTEM_MEMORY, true);
        v.setUint32(8, framing.frames, true);
        v.setUint32(12, framing.frameSize, true);
        v.setUint32(16, framing.alignment - 1, true);
        return out;
      },
    },
  ];
  if (pin.descriptor.dataRanges.some((r) => r.kind === 'video')) {
    items.push({
      id: ConnectionProperty.DataFormat,
      name: 'DataFormat',
      type: 'bytes',
      size: KS_DATAFORMAT_VIDEOINFOHEADER_SIZE,
      access: 'readonly',
      get: () => {
        const format = pin.format;
        if (format?.kind !== 'video')
          throw new KsError('InvalidDeviceRequest', `${pin.label} has no video data format yet`);
        return encodeVideoFormat(format);
      },
    });
  }
  return { ...table, properties: [...own, { set: PropSetId.Connection, items }] };
}

// KSALLOCATOR_OPTIONF_SYSTEM_MEMORY (ks.h): frames live in system memory (a SharedArrayBuffer here).
const KSALLOCATOR_OPTIONF_SYSTEM_MEMORY = 0x2;

/** Plane offsets of a format inside a frame (NV12/I420: luma then chroma), for the pool's layout record. */
function planeOffsetsOf(format: DataFormat): number[] {
  if (format.kind !== 'video' || format.compressed || format.bitCount !== 12) return [0];
  const luma = format.width * format.height;
  // NV12 has one interleaved chroma plane; I420/IYUV/YV12 have two quarter planes.
  return format.subtype === MediaSubtype.NV12 ? [0, luma] : [0, luma, luma + luma / 4];
}
