// Test harnesses of hal, exported as ./testing.
export {};
// --- PCIe card register-level access and the tuner picture (pcie/tuner helper) ---
export {
  PcieRegister,
  PcieRegisters,
  ControlBit,
  StatusBit,
  InterruptBit,
  PCIE_BAR0_BYTES,
  PCIE_CARD_ID,
} from '../pcie-registers.js';
export {
  DescriptorRing,
  DescriptorFlag,
  DescriptorStatus,
  DescriptorWord,
  DESCRIPTOR_BYTES,
  type DescriptorFields,
  type DescriptorStatusCode,
} from '../descriptor-ring.js';
export {
  TunerPicture,
  channelTag,
  channelDigits,
  channelPlateGeometry,
  NO_SIGNAL_TAG,
} from '../tuner-picture.js';
