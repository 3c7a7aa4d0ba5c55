// Tests BAR0 access semantics: read-only registers, write-1-to-clear interrupt status, masks and reset.
import { describe, expect, it } from '@jest/globals';
import {
  ControlBit,
  InterruptBit,
  PCIE_BAR0_BYTES,
  PCIE_CARD_ID,
  PcieRegister,
  PcieRegisters,
  StatusBit,
} from './pcie-registers.js';

describe('PcieRegisters', () => {
  it('powers on with id and version and ignores writes to read-only registers', () => {
    const r = PcieRegisters.create();
    expect(r.read(PcieRegister.Id)).toBe(PCIE_CARD_ID);
    expect(r.read(PcieRegister.Version)).toBe(1);
    r.write(PcieRegister.Id, 0);
    r.write(PcieRegister.FramesCompleted, 7);
    r.write(PcieRegister.RingHead, 3);
    expect(r.read(PcieRegister.Id)).toBe(PCIE_CARD_ID);
    expect(r.read(PcieRegister.FramesCompleted)).toBe(0);
    expect(r.read(PcieRegister.RingHead)).toBe(0);
  });

  it('clears interrupt status only where 1s are written (W1C)', () => {
    const r = PcieRegisters.create();
    r.deviceRaise(InterruptBit.FrameDone | InterruptBit.FrameDropped | InterruptBit.LinkDown);
    expect(r.read(PcieRegister.InterruptStatus)).toBe(0b111);
    r.write(PcieRegister.InterruptStatus, InterruptBit.FrameDropped);
    expect(r.read(PcieRegister.InterruptStatus)).toBe(InterruptBit.FrameDone | InterruptBit.LinkDown);
    r.write(PcieRegister.InterruptStatus, 0);
    expect(r.read(PcieRegister.InterruptStatus)).toBe(InterruptBit.FrameDone | InterruptBit.LinkDown);
    r.write(PcieRegister.InterruptStatus, 0xffffffff);
    expect(r.read(PcieRegister.InterruptStatus)).toBe(0);
  });

  it('raises the line only for unmasked sources with interrupts enabled, but always latches', () => {
    const r = PcieRegisters.create();
    expect(r.deviceRaise(InterruptBit.FrameDone)).toBe(false); // global enable off
    expect(r.read(PcieRegister.InterruptCount)).toBe(0);
    expect(r.read(PcieRegister.InterruptStatus)).toBe(InterruptBit.FrameDone);
    r.write(PcieRegister.Control, ControlBit.InterruptEnable);
    r.write(PcieRegister.InterruptMask, InterruptBit.FrameDone);
    expect(r.deviceRaise(InterruptBit.FrameDone)).toBe(false);
    expect(r.pendingInterrupts()).toBe(0);
    expect(r.deviceRaise(InterruptBit.FrameDropped)).toBe(true);
    expect(r.read(PcieRegister.InterruptCount)).toBe(1);
    expect(r.pendingInterrupts()).toBe(InterruptBit.FrameDropped);
    r.write(PcieRegister.InterruptMask, 0xffffffff);
    expect(r.read(PcieRegister.InterruptMask)).toBe(0b1111); // undefined bits read as 0
  });

  it('reset clears counters, indices and interrupt state but keeps format and ring geometry', () => {
    const r = PcieRegisters.create();
    r.write(PcieRegister.Control, ControlBit.Enable | ControlBit.InterruptEnable);
    r.write(PcieRegister.FormatWidth, 1920);
    r.write(PcieRegister.RingSize, 8);
    r.write(PcieRegister.RingTail, 5);
    r.write(PcieRegister.FrameDue, 9);
    r.deviceStore(PcieRegister.RingHead, 4);
    r.deviceAdd(PcieRegister.FramesCompleted, 4);
    r.deviceAdd(PcieRegister.FramesDropped, 2);
    r.deviceSetStatus(StatusBit.Ready | StatusBit.Starved);
    r.deviceRaise(InterruptBit.FrameDone);
    r.write(PcieRegister.Control, ControlBit.Reset | ControlBit.InterruptEnable);
    expect(r.read(PcieRegister.Control)).toBe(ControlBit.InterruptEnable); // Reset self-clears, Enable dropped
    for (const reg of [
      PcieRegister.RingHead,
      PcieRegister.RingTail,
      PcieRegister.FramesCompleted,
      PcieRegister.FramesDropped,
      PcieRegister.FrameDue,
      PcieRegister.InterruptStatus,
    ]) {
      expect(r.read(reg)).toBe(0);
    }
    expect(r.read(PcieRegister.InterruptCount)).toBe(1); // monotonic line counter survives
    expect(r.read(PcieRegister.Status)).toBe(StatusBit.Ready);
    expect(r.read(PcieRegister.FormatWidth)).toBe(1920);
    expect(r.read(PcieRegister.RingSize)).toBe(8);
  });

  it('counters wrap at 2^32 and read back unsigned', () => {
    const r = PcieRegisters.create();
    r.deviceStore(PcieRegister.FramesCompleted, 0xffffffff);
    expect(r.read(PcieRegister.FramesCompleted)).toBe(0xffffffff);
    r.deviceAdd(PcieRegister.FramesCompleted, 1);
    expect(r.read(PcieRegister.FramesCompleted)).toBe(0);
  });

  it('rejects misaligned or out-of-range offsets and non-32-bit values with RangeError', () => {
    const r = PcieRegisters.create();
    expect(() => r.read(2)).toThrow(RangeError);
    expect(() => r.read(PCIE_BAR0_BYTES)).toThrow(RangeError);
    expect(() => r.write(PcieRegister.RingTail, 2 ** 32)).toThrow(RangeError);
    expect(() => r.write(PcieRegister.RingTail, 1.5)).toThrow(RangeError);
    expect(() => PcieRegisters.attach(new SharedArrayBuffer(4))).toThrow(TypeError);
  });

  it('shares state with an attached view (what the engine worker sees)', () => {
    const r = PcieRegisters.create();
    const device = PcieRegisters.attach(r.buffer);
    r.write(PcieRegister.FrameDue, 3);
    expect(device.read(PcieRegister.FrameDue)).toBe(3);
    device.deviceAdd(PcieRegister.FramesCompleted, 2);
    expect(r.read(PcieRegister.FramesCompleted)).toBe(2);
  });
});
