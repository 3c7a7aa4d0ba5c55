// The synthetic PCIe card's DMA engine as the host sees it: a worker thread attached to BAR0, the descriptor ring and host memory.
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { PoolGeometry } from './capture-engine.js';
import { DescriptorRing } from './descriptor-ring.js';
import type { FaultPlan } from './fault-plan.js';
import { HalError, HalErrorCode } from './hal-error.js';
import { ControlBit, PcieRegister, PcieRegisters, StatusBit } from './pcie-registers.js';
import { poolMemoryOf } from './pool-memory.js';
import { silentLogger } from './silent-logger.js';
import {
  FRAME_TAG_ENTRIES,
  MAX_POOL_SLOTS,
  waitForChange,
  type DmaEngineReply,
  type DmaEngineRequest,
  type DmaVideoInput,
} from './dma-engine-abi.js';

export {
  FRAME_TAG_ENTRIES,
  MAX_POOL_SLOTS,
  PCIE_FORMAT_CODES,
  invalidateAllSlots,
  waitForChange,
  type DmaEngineReply,
  type DmaEngineRequest,
  type DmaVideoInput,
} from './dma-engine-abi.js';

/** Options of {@link DmaEngine.launch}. */
export interface DmaEngineOptions {
  /** Descriptors in the ring (power of two, ≤ 4096). Default 256. */
  readonly ringSize?: number;
  readonly input: DmaVideoInput;
  readonly faults?: FaultPlan;
  readonly logger?: Logger;
  /** Device id for errors. */
  readonly deviceId?: string;
}

/**
 * Host side of one card's DMA engine: owns the worker thread and the shared memories it is
 * attached to (BAR0, descriptor ring, input-tag FIFO, mapped host memory). The host drives it
 * only through registers plus `map`/`sync`; the worker never decides time by itself, it
 * captures the frames the host declares due in FrameDue.
 *
 * Lifecycle: `launch` (async, resolves when the worker reports Status.Ready) → … →
 * `shutdown` (idempotent; resolves when the worker thread has exited). A worker that dies
 * makes `failure` hold a HalError(Disconnected) with the cause and calls `onFailure`.
 */
export class DmaEngine {
  readonly registers: PcieRegisters;
  readonly ring: DescriptorRing;
  /** Per-frame input tags, indexed by frame number mod FRAME_TAG_ENTRIES. */
  readonly tags: Int32Array;
  /**
   * One counter per pool slot; the host bumps a slot's counter when the slot's bytes stop
   * being what the engine last wrote there (owner wrote into it, new pool, new format), so the
   * engine redraws it completely instead of only what changed since the frame it held.
   */
  readonly slotGenerations: Int32Array;
  private readonly worker: Worker;
  private readonly logger: Logger;
  private readonly deviceId: string;
  private nextSyncId = 1;
  private keepAliveCount = 0;
  private readonly pendingSyncs = new Map<number, () => void>();
  private exited: Promise<void>;
  private exitedFlag = false;
  /** Set by shutdown(): an exit from then on is expected, not a failure. */
  private stopping = false;
  private failed: HalError | undefined;
  /** Called once if the worker dies unexpectedly. */
  onFailure: ((error: HalError) => void) | undefined;

  private constructor(options: DmaEngineOptions) {
    this.logger = (options.logger ?? silentLogger()).child({ component: 'pcie-dma-engine' });
    this.deviceId = options.deviceId ?? 'synthetic:pcie';
    this.registers = PcieRegisters.create();
    this.ring = DescriptorRing.allocate(options.ringSize ?? 256);
    this.registers.write(PcieRegister.RingBase, 0);
    this.registers.write(PcieRegister.RingSize, this.ring.size);
    this.tags = new Int32Array(new SharedArrayBuffer(FRAME_TAG_ENTRIES * 4));
    this.slotGenerations = new Int32Array(new SharedArrayBuffer(MAX_POOL_SLOTS * 4));
    this.worker = new Worker(new URL('./dma-engine-worker.js', import.meta.url));
    this.exited = new Promise<void>((resolve) => {
      this.worker.once('exit', (code) => {
        this.exitedFlag = true;
        if (code !== 0 && this.failed === undefined && !this.stopping) {
          this.fail(new Error(`DMA engine worker exited with code ${code}`));
        }
        for (const resolveSync of this.pendingSyncs.values()) resolveSync();
        this.pendingSyncs.clear();
        resolve();
      });
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('message', (msg: DmaEngineReply) => {
      if (msg.type === 'ack') {
        const resolve = this.pendingSyncs.get(msg.id);
        this.pendingSyncs.delete(msg.id);
        resolve?.();
      }
    });
    // A forgotten engine must not keep the process alive: the thread is referenced only while
    // the host waits on it (keepAlive). Unreferenced after the listeners, because adding a
    // 'message' listener to a Worker references its port again (which kept jest runs alive
    // behind any engine left open).
    this.worker.unref();
    const init: DmaEngineRequest = {
      type: 'init',
      bar0: this.registers.buffer,
      ring: this.ring.buffer,
      tags: this.tags.buffer as SharedArrayBuffer,
      slotGenerations: this.slotGenerations.buffer as SharedArrayBuffer,
      input: options.input,
      faults: options.faults ?? { faults: [] },
    };
    this.worker.postMessage(init);
  }

  /**
   * Starts the worker and waits for it to attach (Status.Ready).
   * @throws RangeError for a bad ring size; HalError(Disconnected) if the worker fails to start;
   *   HalError(TimedOut) if it does not become ready within `timeoutMs` (default 10 s).
   */
  static async launch(options: DmaEngineOptions, timeoutMs = 10_000): Promise<DmaEngine> {
    const engine = new DmaEngine(options);
    const release = engine.keepAlive();
    try {
      return await DmaEngine.whenReady(engine, timeoutMs);
    } finally {
      release();
    }
  }

  private static async whenReady(engine: DmaEngine, timeoutMs: number): Promise<DmaEngine> {
    const statusIndex = PcieRegister.Status >>> 2;
    // A watchdog counted in wait slices, not a clock reading: hal takes time only from TimeSources.
    const sliceMs = 100;
    for (let waitedMs = 0; ; waitedMs += sliceMs) {
      if (engine.failed !== undefined) throw engine.failed;
      const status = Atomics.load(engine.registers.words, statusIndex);
      if ((status & StatusBit.Ready) !== 0) return engine;
      if (waitedMs >= timeoutMs) {
        await engine.shutdown();
        throw new HalError(HalErrorCode.TimedOut, `${engine.deviceId}: DMA engine did not become ready`, {
          deviceId: engine.deviceId,
        });
      }
      // Also wakes on worker death: fail() notifies the status word.
      await waitForChange(engine.registers.words, statusIndex, status, sliceMs);
    }
  }

  /**
   * Keeps the process alive while the host waits on the engine thread (`Atomics.waitAsync`
   * does not): call before a wait, call the returned function after it (once).
   */
  keepAlive(): () => void {
    if (this.keepAliveCount++ === 0 && !this.exitedFlag) this.worker.ref();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.keepAliveCount === 0 && !this.exitedFlag) this.worker.unref();
    };
  }

  /** The worker's failure, if it died. */
  get failure(): HalError | undefined {
    return this.failed;
  }

  /**
   * Makes host memory visible to the engine (an IOMMU mapping, in PCIe terms). The memory is
   * borrowed: the engine writes only inside the slots the descriptors name. Pool memory from
   * `createPoolMemory` is attached as such in the worker, so its renderer uses native copies.
   * Takes effect for every descriptor consumed after the next `sync()`.
   */
  map(memory: SharedArrayBuffer, geometry: PoolGeometry): void {
    const poolMemory = poolMemoryOf(memory);
    this.post({ type: 'map', memory, geometry, ...(poolMemory !== undefined ? { poolMemory } : {}) });
  }

  /** Resolves when the worker has processed every message posted before this call. */
  sync(): Promise<void> {
    if (this.exitedFlag) return Promise.resolve();
    const id = this.nextSyncId++;
    const release = this.keepAlive();
    return new Promise<void>((resolve) => {
      this.pendingSyncs.set(id, () => {
        release();
        resolve();
      });
      this.post({ type: 'sync', id });
    });
  }

  /**
   * Asks the engine thread to exit and waits for it; terminates it if it does not exit within
   * `graceMs`. Idempotent; never throws.
   */
  async shutdown(graceMs = 2_000): Promise<void> {
    this.stopping = true;
    if (!this.exitedFlag) {
      const control = this.registers.read(PcieRegister.Control);
      this.registers.write(PcieRegister.Control, control | ControlBit.Shutdown);
      this.registers.ringDoorbell();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), graceMs);
      });
      const outcome = await Promise.race([this.exited.then(() => 'exited' as const), timedOut]);
      if (timer !== undefined) clearTimeout(timer);
      if (outcome === 'timeout') {
        this.logger.warn('DMA engine worker did not exit; terminating it');
        await this.worker.terminate();
      }
    }
    await this.exited;
  }

  private post(msg: DmaEngineRequest): void {
    if (this.exitedFlag) return;
    this.worker.postMessage(msg);
  }

  private fail(cause: unknown): void {
    if (this.failed !== undefined) return;
    this.failed = new HalError(HalErrorCode.Disconnected, `${this.deviceId}: DMA engine failed`, {
      cause,
      deviceId: this.deviceId,
    });
    this.logger.error({ err: cause }, 'DMA engine worker failed');
    // The link is gone as far as the host can tell; wake anyone waiting on registers.
    this.registers.deviceSetStatus(StatusBit.LinkDown);
    Atomics.notify(this.registers.words, PcieRegister.InterruptCount >>> 2);
    this.onFailure?.(this.failed);
  }
}
