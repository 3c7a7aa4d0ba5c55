// BAR0 register map of the synthetic PCIe capture card: a SharedArrayBuffer of 32-bit registers with hardware access semantics.

/** Byte offsets of BAR0 registers (all 32 bits wide, little-endian, 4-byte aligned). */
export const PcieRegister = Object.freeze({
  /** RO: vendor/device id (0x4B53_CA9D: "KS" + "capture card"). */
  Id: 0x00,
  /** RO: register-map revision. */
  Version: 0x04,
  /** RW: ControlBit flags. Writing Reset performs a reset and the bit reads back 0. */
  Control: 0x08,
  /** RO: StatusBit flags, owned by the device. */
  Status: 0x0c,
  /** W1C: InterruptBit flags latched by the device; write 1s to clear them. */
  InterruptStatus: 0x10,
  /** RW: InterruptBit flags; a 1 masks (suppresses) that interrupt source. Status still latches. */
  InterruptMask: 0x14,
  /** RW: byte offset of descriptor 0 in the descriptor memory (32-byte aligned). */
  RingBase: 0x18,
  /** RW: number of descriptors, a power of two in 1…4096. */
  RingSize: 0x1c,
  /** RO: free-running count of descriptors the device has consumed (index = head mod size). */
  RingHead: 0x20,
  /** RW: free-running count of descriptors the driver has posted; head == tail means empty. */
  RingTail: 0x24,
  /** RO: frames written and completed (free-running, wraps at 2^32). */
  FramesCompleted: 0x28,
  /** RO: frames due that found no complete descriptor chain in the ring (starvation), or were dropped by a fault plan. */
  FramesDropped: 0x2c,
  /** RO: low 32 bits of the index of the next frame the device will capture. */
  FrameIndex: 0x30,
  /** RW (pacing doorbell): count of frames due since start; the device captures frames FrameIndex…FrameDue-1. */
  FrameDue: 0x34,
  /** RW: pixel format, as an index into the card's format table (PCIE_FORMAT_CODES in dma-engine). */
  FormatCode: 0x38,
  /** RW: image width in pixels. */
  FormatWidth: 0x3c,
  /** RW: image height in pixels. */
  FormatHeight: 0x40,
  /** RW: bytes per line of the first plane. */
  FormatStride: 0x44,
  /** RW: bytes per complete frame. */
  FormatFrameBytes: 0x48,
  /** RW: frame interval in 100 ns units (informational: pacing comes from FrameDue). */
  FrameInterval: 0x4c,
  /** RO: interrupt counter, incremented each time the line is raised; Atomics.notify is sent on it. Survives reset so waiters never miss a wake-up. */
  InterruptCount: 0x50,
  /** RO: frames completed with the Corrupted status. */
  FramesCorrupted: 0x54,
  /** RW: doorbell counter; the driver increments it (and notifies) after changing FrameDue, RingTail or Control. */
  Doorbell: 0x58,
  /** RO: frames skipped because the posted chain was shorter than FormatFrameBytes. */
  FramesShort: 0x5c,
  /** RW: high 32 bits of the first frame index (with FrameIndexBaseLow: where the sequence starts). */
  FrameIndexBaseHigh: 0x60,
  /** RW: low 32 bits of the first frame index. */
  FrameIndexBaseLow: 0x64,
  /** RO: frames the device discarded although a chain was posted (its chain completes Dropped). */
  FramesDiscarded: 0x68,
} as const);

/** Name of a BAR0 register. */
export type PcieRegisterName = keyof typeof PcieRegister;

/** Size of BAR0 in bytes. */
export const PCIE_BAR0_BYTES = 0x80;
/** Value of the Id register. */
export const PCIE_CARD_ID = 0x4b53ca9d;
/** Value of the Version register. */
export const PCIE_REGISTER_VERSION = 1;
/** Largest ring the card accepts. */
export const PCIE_MAX_RING_SIZE = 4096;

/** Control register bits. */
export const ControlBit = Object.freeze({
  /** DMA engine runs while set; clearing it makes the device finish the current frame and go idle. */
  Enable: 1 << 0,
  /** Write-only: resets counters, ring indices and interrupt state; self-clearing. */
  Reset: 1 << 1,
  /** Global interrupt enable. */
  InterruptEnable: 1 << 2,
  /** Driver requests the engine thread to exit (device removal / close). */
  Shutdown: 1 << 3,
});

/** Status register bits. */
export const StatusBit = Object.freeze({
  /** The DMA engine is running (it has seen Enable and not yet gone idle). */
  Running: 1 << 0,
  /** The last due frame found the ring without a complete descriptor chain. */
  Starved: 1 << 1,
  /** The link is down (surprise removal); no more frames will complete. */
  LinkDown: 1 << 2,
  /** The engine thread has attached to BAR0 and is ready for doorbells. */
  Ready: 1 << 3,
});

/** InterruptStatus / InterruptMask bits. */
export const InterruptBit = Object.freeze({
  /** At least one frame completed (any status). */
  FrameDone: 1 << 0,
  /** A due frame was dropped (starvation or a drop fault). */
  FrameDropped: 1 << 1,
  /** The link went down. */
  LinkDown: 1 << 2,
  /** The engine went idle after Enable was cleared. */
  Idle: 1 << 3,
});

const ALL_INTERRUPTS =
  InterruptBit.FrameDone | InterruptBit.FrameDropped | InterruptBit.LinkDown | InterruptBit.Idle;
const READ_ONLY = new Set<number>([
  PcieRegister.Id,
  PcieRegister.Version,
  PcieRegister.Status,
  PcieRegister.RingHead,
  PcieRegister.FramesCompleted,
  PcieRegister.FramesDropped,
  PcieRegister.FrameIndex,
  PcieRegister.InterruptCount,
  PcieRegister.FramesCorrupted,
  PcieRegister.FramesShort,
  PcieRegister.FramesDiscarded,
]);

/** Narrows a register offset; offsets that are not a defined register throw. */
function checkOffset(offset: number): number {
  if (!Number.isInteger(offset) || offset < 0 || offset >= PCIE_BAR0_BYTES || (offset & 3) !== 0) {
    throw new RangeError(`BAR0 offset 0x${offset.toString(16)} is not a 4-byte aligned offset below 0x80`);
  }
  return offset >>> 2;
}

/**
 * BAR0 of one card. Both sides attach to the same SharedArrayBuffer: the driver (main thread)
 * through `read`/`write` (MMIO semantics: read-only registers ignore writes, InterruptStatus is
 * write-1-to-clear, Control.Reset is self-clearing), the device (engine worker) through the
 * `device*` methods, which may change read-only registers. Every access is atomic.
 */
export class PcieRegisters {
  /** The 32-bit register words; exposed so waiters can `Atomics.wait`/`waitAsync` on a register. */
  readonly words: Int32Array;

  private constructor(readonly buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer, 0, PCIE_BAR0_BYTES / 4);
  }

  /** Allocates a fresh BAR0 in its power-on state. */
  static create(): PcieRegisters {
    const regs = new PcieRegisters(new SharedArrayBuffer(PCIE_BAR0_BYTES));
    regs.powerOn();
    return regs;
  }

  /**
   * Attaches to an existing BAR0 (for example inside the engine worker).
   * @throws TypeError when `buffer` is not a SharedArrayBuffer of PCIE_BAR0_BYTES bytes.
   */
  static attach(buffer: SharedArrayBuffer): PcieRegisters {
    if (
      Object.prototype.toString.call(buffer) !== '[object SharedArrayBuffer]' ||
      buffer.byteLength !== PCIE_BAR0_BYTES
    ) {
      throw new TypeError(`BAR0 must be a SharedArrayBuffer of ${PCIE_BAR0_BYTES} bytes`);
    }
    return new PcieRegisters(buffer);
  }

  /** Word index of a register, for Atomics waits. */
  static index(offset: number): number {
    return checkOffset(offset);
  }

  /** Driver read: the register as an unsigned 32-bit value. */
  read(offset: number): number {
    return Atomics.load(this.words, checkOffset(offset)) >>> 0;
  }

  /**
   * Driver write with the register's access semantics. Writes to read-only registers are
   * ignored, as a bus write to a RO register is on real hardware.
   * @throws RangeError for an offset outside BAR0 or a value that is not a 32-bit integer.
   */
  write(offset: number, value: number): void {
    const index = checkOffset(offset);
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0xffffffff) {
      throw new RangeError(`register value ${value} is not a 32-bit integer`);
    }
    if (READ_ONLY.has(offset)) return;
    if (offset === PcieRegister.InterruptStatus) {
      Atomics.and(this.words, index, ~(value & ALL_INTERRUPTS));
      return;
    }
    if (offset === PcieRegister.Control) {
      if ((value & ControlBit.Reset) !== 0) this.reset();
      Atomics.store(this.words, index, value & ~ControlBit.Reset);
      return;
    }
    if (offset === PcieRegister.InterruptMask) {
      Atomics.store(this.words, index, value & ALL_INTERRUPTS);
      return;
    }
    Atomics.store(this.words, index, value | 0);
  }

  /** Driver: rings the doorbell so the engine re-reads Control, FrameDue and RingTail. */
  ringDoorbell(): void {
    const index = PcieRegister.Doorbell >>> 2;
    Atomics.add(this.words, index, 1);
    Atomics.notify(this.words, index);
  }

  /** Interrupt sources that are latched and not masked. */
  pendingInterrupts(): number {
    return this.read(PcieRegister.InterruptStatus) & ~this.read(PcieRegister.InterruptMask) & ALL_INTERRUPTS;
  }

  /** Device: stores a register, including read-only ones. */
  deviceStore(offset: number, value: number): void {
    Atomics.store(this.words, checkOffset(offset), value | 0);
  }

  /** Device: adds to a counter register (wrapping at 2^32). */
  deviceAdd(offset: number, value: number): void {
    Atomics.add(this.words, checkOffset(offset), value | 0);
  }

  /** Device: sets bits of Status and wakes anyone waiting on it. */
  deviceSetStatus(bits: number): void {
    const index = PcieRegister.Status >>> 2;
    Atomics.or(this.words, index, bits);
    Atomics.notify(this.words, index);
  }

  /** Device: clears bits of Status and wakes anyone waiting on it. */
  deviceClearStatus(bits: number): void {
    const index = PcieRegister.Status >>> 2;
    Atomics.and(this.words, index, ~bits);
    Atomics.notify(this.words, index);
  }

  /** Device: latches interrupt sources without raising the line (raise them later with deviceRaise). */
  deviceLatch(bits: number): void {
    Atomics.or(this.words, PcieRegister.InterruptStatus >>> 2, bits & ALL_INTERRUPTS);
  }

  /**
   * Device: latches interrupt sources and, when one of them is unmasked and interrupts are
   * enabled, raises the line: InterruptCount += 1 and Atomics.notify on it.
   * @returns whether the line was raised.
   */
  deviceRaise(bits: number): boolean {
    Atomics.or(this.words, PcieRegister.InterruptStatus >>> 2, bits & ALL_INTERRUPTS);
    const enabled = (this.read(PcieRegister.Control) & ControlBit.InterruptEnable) !== 0;
    const unmasked = bits & ~this.read(PcieRegister.InterruptMask) & ALL_INTERRUPTS;
    if (!enabled || unmasked === 0) return false;
    const index = PcieRegister.InterruptCount >>> 2;
    Atomics.add(this.words, index, 1);
    Atomics.notify(this.words, index);
    return true;
  }

  private powerOn(): void {
    this.words.fill(0);
    this.deviceStore(PcieRegister.Id, PCIE_CARD_ID);
    this.deviceStore(PcieRegister.Version, PCIE_REGISTER_VERSION);
    this.deviceStore(PcieRegister.RingSize, 1);
  }

  /**
   * Reset as the driver sees it: counters, ring indices, pacing and interrupt state return to
   * zero; Enable drops. Format, ring geometry, mask and the Ready/LinkDown status survive (they
   * describe the device and its link, not a stream). Resetting while Status.Running is set is
   * undefined on real cards: drivers clear Enable and wait for Running to drop first.
   */
  private reset(): void {
    for (const offset of [
      PcieRegister.InterruptStatus,
      PcieRegister.RingHead,
      PcieRegister.RingTail,
      PcieRegister.FramesCompleted,
      PcieRegister.FramesDropped,
      PcieRegister.FramesCorrupted,
      PcieRegister.FramesShort,
      PcieRegister.FramesDiscarded,
      PcieRegister.FrameIndex,
      PcieRegister.FrameDue,
    ]) {
      this.deviceStore(offset, 0);
    }
    this.deviceClearStatus(StatusBit.Running | StatusBit.Starved);
  }
}
