// UvcDeviceProvider: the Enumerator's source of USB UVC cameras (interface class 0x0E) over a UsbTransportProvider, with hotplug.
import type { Logger } from 'pino';
import type { DeviceProvider } from '../enumerator.js';
import type { HalDevice } from '../hal-device.js';
import { silentLogger } from '../silent-logger.js';
import type { UsbDeviceInfo, UsbTransportProvider } from '../usb/usb-transport.js';
import { UvcCamera, type UvcCameraOptions } from './uvc-camera.js';

/** Options of a {@link UvcDeviceProvider}: the camera options every listed camera gets. */
export type UvcDeviceProviderOptions = UvcCameraOptions;

/**
 * Lists the UVC cameras a USB backend sees. Each device is probed once (a short open reading its
 * descriptors, strings and, when free, control ranges) and the {@link UvcCamera} is kept while it
 * stays attached, so the same object is returned by every `list()` (its open state is
 * meaningful). Devices without a UVC video function, or that fail to probe (permissions), are
 * skipped and logged. Hotplug: attach → probe → `added`; detach → the camera is marked
 * disconnected (an open session completes its mappings `Disconnected`) → `removed`.
 */
export class UvcDeviceProvider implements DeviceProvider {
  readonly name = 'usb';
  private readonly logger: Logger;
  private readonly cameras = new Map<string, UvcCamera>();
  private readonly notUvc = new Set<string>();

  constructor(
    private readonly usb: UsbTransportProvider,
    private readonly options: UvcDeviceProviderOptions = {},
  ) {
    this.logger = (options.logger ?? silentLogger()).child({ component: 'uvc-provider', backend: usb.name });
  }

  async list(): Promise<readonly HalDevice[]> {
    const present = await this.usb.listDevices();
    const keys = new Set(present.map(keyOf));
    for (const [key, cam] of this.cameras) {
      if (!keys.has(key)) {
        this.cameras.delete(key);
        cam.markDisconnected();
      }
    }
    const out: HalDevice[] = [];
    for (const info of present) {
      const cam = await this.cameraFor(info);
      if (cam !== undefined) out.push(cam);
    }
    return out;
  }

  watch(listener: { added(device: HalDevice): void; removed(id: string): void }): () => void {
    return this.usb.watch((event) => {
      const key = keyOf(event.device);
      if (event.type === 'detach') {
        this.notUvc.delete(key);
        const cam = this.cameras.get(key);
        if (cam === undefined) return;
        this.cameras.delete(key);
        cam.markDisconnected();
        listener.removed(cam.identity.id);
        return;
      }
      void this.cameraFor(event.device).then((cam) => {
        if (cam !== undefined) listener.added(cam);
      });
    });
  }

  private async cameraFor(info: UsbDeviceInfo): Promise<UvcCamera | undefined> {
    const key = keyOf(info);
    const known = this.cameras.get(key);
    if (known !== undefined) return known;
    if (
      this.notUvc.has(key) ||
      (info.deviceClass !== 0xef && info.deviceClass !== 0x00 && info.deviceClass !== 0x0e)
    )
      return undefined;
    try {
      const cam = await UvcCamera.probe(this.usb, info, this.options);
      const again = this.cameras.get(key);
      if (again !== undefined) return again; // a concurrent probe won
      this.cameras.set(key, cam);
      return cam;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'NotFound') this.notUvc.add(key);
      else this.logger.warn({ err, device: info.location }, 'cannot probe USB device');
      return undefined;
    }
  }
}

/** Bus location plus address: a re-enumerated device (new address) is a new device. */
function keyOf(info: UsbDeviceInfo): string {
  return `${info.location}#${info.deviceAddress}`;
}
