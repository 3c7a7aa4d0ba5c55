// Opens a HAL device for the viewer: the KS device, the filters whose properties the page shows, and the capture pin in STOP.
import { KsError, type Clock, type KsDevice, type KsFilter, type KsPin, type Logger } from '@ksemu/ks-core';
import type { HalDevice } from '@ksemu/hal';
import { WebcamPin, createWebcamDevice, fourccOfSubtype } from '@ksemu/minidriver-webcam';
import { createTunerDevice, matchesTuner, openTuner } from '@ksemu/minidriver-tuner';
import { GraphTunerPanel } from './tuner-panel.js';
import type { TunerPanel } from './tuner-panel-types.js';

/** An opened device as the viewer uses it. The viewer owns it and calls `close()` once. */
export interface ViewerDevice {
  readonly device: KsDevice;
  /** Filters whose properties the page shows, in display order (the capture filter among them). */
  readonly filters: readonly KsFilter[];
  /** The video capture pin, in STOP with a format set. */
  readonly pin: KsPin;
  /** Set for TV tuners: channel, frequency, standard, input, scan. */
  readonly tuner?: TunerPanel;
  /** Closes pin, filters and device (the pin must be stopped first). */
  close(): Promise<void>;
}

const PREFERRED = { fourcc: 'YUY2', width: 640, height: 480, interval: 333333n } as const;

/**
 * The default opener: TV tuner cards get the tuner minidriver's graph (tuner → crossbar → decoder
 * → capture, wired by mediums); other video devices get the webcam minidriver with YUY2
 * 640x480@30 when offered, else the first range's default format.
 * @throws KsError NotSupported for a device without video; the minidrivers' errors (closed again).
 */
export async function openViewerDevice(hal: HalDevice, clock: Clock, logger: Logger): Promise<ViewerDevice> {
  if (matchesTuner(hal)) {
    const device = createTunerDevice(hal, { clock, logger });
    try {
      const graph = await openTuner(device);
      const f = graph.filters;
      const filters = [f.tuner, ...(f.tvAudio ? [f.tvAudio] : []), f.crossbar, f.decoder, f.capture];
      const tuner = new GraphTunerPanel(graph, hal);
      return {
        device,
        filters,
        pin: graph.capturePin,
        tuner,
        close: async () => {
          await tuner.close();
          await graph.close();
          await device.close();
        },
      };
    } catch (err) {
      await device.close().catch(() => undefined);
      throw err;
    }
  }
  const device = createWebcamDevice(hal, { clock, logger });
  try {
    const filter = await device.createFilter(0);
    const ranges = filter.descriptor.pins[WebcamPin.Capture]?.dataRanges ?? [];
    const preferred = ranges.findIndex(
      (r) =>
        r.kind === 'video' &&
        fourccOfSubtype(r.subtype) === PREFERRED.fourcc &&
        r.minWidth <= PREFERRED.width &&
        r.maxWidth >= PREFERRED.width &&
        r.minHeight <= PREFERRED.height &&
        r.maxHeight >= PREFERRED.height,
    );
    const first = ranges[Math.max(0, preferred)];
    if (!first || first.kind !== 'video')
      throw new KsError('NotSupported', `${hal.identity.id} has no video capture formats`);
    const request =
      preferred >= 0
        ? {
            subtype: first.subtype,
            width: PREFERRED.width,
            height: PREFERRED.height,
            frameInterval: PREFERRED.interval as typeof first.defaultFrameInterval,
          }
        : {
            subtype: first.subtype,
            width: first.defaultWidth,
            height: first.defaultHeight,
            frameInterval: first.defaultFrameInterval,
          };
    const proposal = filter.proposeFormat(WebcamPin.Capture, request);
    const pin = await filter.createPin(WebcamPin.Capture, { format: proposal.format });
    return { device, filters: [filter], pin, close: () => device.close() };
  } catch (err) {
    await device.close().catch(() => undefined);
    throw err;
  }
}
