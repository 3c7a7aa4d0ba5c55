// The JSON format of a recorded USB session (control, bulk/interrupt and iso exchanges) for ReplayTransport.
import type {
  ControlSetup,
  UsbCapabilities,
  UsbDeviceInfo,
  UsbTransferStatus,
} from '../usb/usb-transport.js';

/** A recorded failure: the HalError code and message the call rejected with. */
export interface RecordedError {
  readonly code: string;
  readonly message: string;
}

/** One recorded call, in call order. Byte strings are lower-case hex. */
export type UsbSessionEvent =
  | {
      readonly op: 'claimInterface' | 'releaseInterface' | 'attachKernelDriver' | 'clearHalt';
      readonly args: readonly [number];
      readonly error?: RecordedError;
    }
  | {
      readonly op: 'isKernelDriverActive' | 'detachKernelDriver';
      readonly args: readonly [number];
      readonly result?: boolean;
      readonly error?: RecordedError;
    }
  | {
      readonly op: 'setAlternateSetting';
      readonly args: readonly [number, number];
      readonly error?: RecordedError;
    }
  | {
      readonly op: 'controlIn';
      readonly setup: ControlSetup;
      readonly length: number;
      readonly data?: string;
      readonly error?: RecordedError;
    }
  | {
      readonly op: 'controlOut';
      readonly setup: ControlSetup;
      readonly data: string;
      readonly result?: number;
      readonly error?: RecordedError;
    }
  | {
      readonly op: 'inStream';
      readonly endpoint: number;
      readonly transferSize: number;
      readonly transfers: readonly { readonly data: string; readonly status: UsbTransferStatus }[];
      /** How the recorded stream ended: `stopped` (by the caller) or a device-side end. */
      readonly end: 'stopped' | 'stall' | 'disconnected' | 'error';
    }
  | {
      readonly op: 'isoStream';
      readonly endpoint: number;
      readonly packetsPerTransfer: number;
      readonly packetSize: number;
      readonly transfers: readonly {
        readonly status: UsbTransferStatus;
        readonly packets: readonly { readonly data: string; readonly status: number }[];
      }[];
      readonly end: 'stopped' | 'stall' | 'disconnected' | 'error';
    };

/** A whole session: the device as listed, its descriptors, and the calls. */
export interface UsbSession {
  readonly version: 1;
  readonly device: UsbDeviceInfo;
  readonly capabilities: UsbCapabilities;
  readonly deviceDescriptor: string;
  readonly configDescriptor: string;
  readonly events: readonly UsbSessionEvent[];
}

/** Lower-case hex of bytes. */
export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Bytes of a hex string; TypeError on odd length or non-hex characters (a corrupt session file). */
export function fromHex(s: string): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new TypeError('session: malformed hex string');
  return new Uint8Array(Buffer.from(s, 'hex'));
}
