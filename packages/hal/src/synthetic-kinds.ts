// The synthetic device kinds an Enumerator knows out of the box (kind name → factory).
import type { SyntheticDeviceFactory } from './enumerator.js';
import { pcieCardFactory } from './pcie-card.js';
import { createSyntheticCamera } from './synthetic-camera.js';
import { tunerFactory } from './synthetic-tuner.js';

/** Built-in synthetic kinds; device modules add their line here ('pcie', 'tuner'). */
export const BUILT_IN_SYNTHETIC_KINDS: Readonly<Record<string, SyntheticDeviceFactory>> = Object.freeze({
  camera: createSyntheticCamera,
  pcie: pcieCardFactory,
  tuner: tunerFactory,
});
