// USB standard descriptors (device, configuration, interface, endpoint, IAD): a bounded walker and typed parsers.

/** Standard descriptor type codes (USB 2.0 table 9-5, plus IAD and the SuperSpeed companion). */
export const UsbDescriptorType = {
  device: 0x01,
  configuration: 0x02,
  string: 0x03,
  interface: 0x04,
  endpoint: 0x05,
  deviceQualifier: 0x06,
  otherSpeedConfiguration: 0x07,
  interfaceAssociation: 0x0b,
  bos: 0x0f,
  superSpeedEndpointCompanion: 0x30,
  csInterface: 0x24,
  csEndpoint: 0x25,
} as const;

/** Endpoint transfer type from bmAttributes bits 1..0. */
export type UsbTransferType = 'control' | 'isochronous' | 'bulk' | 'interrupt';

const TRANSFER_TYPES: readonly UsbTransferType[] = ['control', 'isochronous', 'bulk', 'interrupt'];

/** One raw descriptor found by {@link walkDescriptors}; `bytes` is a view into the caller's buffer (borrowed). */
export interface RawDescriptor {
  readonly offset: number;
  readonly length: number;
  readonly type: number;
  readonly bytes: Uint8Array;
}

/** Result of walking a descriptor blob: the well-formed descriptors plus human-readable warnings. */
export interface DescriptorWalk {
  readonly descriptors: RawDescriptor[];
  readonly warnings: string[];
}

/** Formats a byte offset the way warnings cite it. */
export function formatOffset(offset: number): string {
  return `@0x${offset.toString(16).padStart(4, '0')}`;
}

/**
 * Splits a concatenation of descriptors by bLength. Never loops: a bLength below 2 stops the walk
 * (nothing after it can be located), a descriptor running past the end is dropped. Both add a warning.
 * The returned views borrow `bytes`.
 */
export function walkDescriptors(bytes: Uint8Array, warnings: string[] = []): DescriptorWalk {
  const descriptors: RawDescriptor[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const length = bytes[offset] ?? 0;
    if (length < 2) {
      warnings.push(`${formatOffset(offset)}: descriptor with bLength ${length}; rest of the blob ignored`);
      break;
    }
    if (offset + length > bytes.length) {
      warnings.push(
        `${formatOffset(offset)}: descriptor (type 0x${(bytes[offset + 1] ?? 0).toString(16)}) declares ${length} bytes ` +
          `but only ${bytes.length - offset} remain (truncated); ignored`,
      );
      break;
    }
    descriptors.push({
      offset,
      length,
      type: bytes[offset + 1] ?? 0,
      bytes: bytes.subarray(offset, offset + length),
    });
    offset += length;
  }
  return { descriptors, warnings };
}

/** Little-endian readers that return 0 past the end, so best-effort parsing of short descriptors never throws. */
export function u8(b: Uint8Array, i: number): number {
  return b[i] ?? 0;
}
export function u16(b: Uint8Array, i: number): number {
  return (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8);
}
export function u32(b: Uint8Array, i: number): number {
  return ((b[i] ?? 0) | ((b[i + 1] ?? 0) << 8) | ((b[i + 2] ?? 0) << 16) | ((b[i + 3] ?? 0) << 24)) >>> 0;
}
/** Reads an unsigned little-endian integer of up to 6 bytes (exact in a double). */
export function uintLE(b: Uint8Array, i: number, size: number): number {
  let v = 0;
  for (let k = Math.min(size, 6) - 1; k >= 0; k--) v = v * 256 + (b[i + k] ?? 0);
  return v;
}

/** Standard device descriptor (18 bytes). */
export interface UsbDeviceDescriptor {
  readonly bcdUSB: number;
  readonly deviceClass: number;
  readonly deviceSubClass: number;
  readonly deviceProtocol: number;
  readonly maxPacketSize0: number;
  readonly vendorId: number;
  readonly productId: number;
  readonly bcdDevice: number;
  readonly manufacturerIndex: number;
  readonly productIndex: number;
  readonly serialNumberIndex: number;
  readonly numConfigurations: number;
}

/**
 * Parses a device descriptor. Throws `RangeError` when `bytes` is shorter than 18 or is not a device
 * descriptor (this is a single fixed-size structure, so there is no best-effort answer).
 */
export function parseUsbDeviceDescriptor(bytes: Uint8Array): UsbDeviceDescriptor {
  if (bytes.length < 18 || u8(bytes, 0) < 18 || u8(bytes, 1) !== UsbDescriptorType.device) {
    throw new RangeError(`not a USB device descriptor (length ${bytes.length}, type ${u8(bytes, 1)})`);
  }
  return {
    bcdUSB: u16(bytes, 2),
    deviceClass: u8(bytes, 4),
    deviceSubClass: u8(bytes, 5),
    deviceProtocol: u8(bytes, 6),
    maxPacketSize0: u8(bytes, 7),
    vendorId: u16(bytes, 8),
    productId: u16(bytes, 10),
    bcdDevice: u16(bytes, 12),
    manufacturerIndex: u8(bytes, 14),
    productIndex: u8(bytes, 15),
    serialNumberIndex: u8(bytes, 16),
    numConfigurations: u8(bytes, 17),
  };
}

/** Interface association descriptor (groups the VC and VS interfaces of one camera function). */
export interface UsbInterfaceAssociation {
  readonly firstInterface: number;
  readonly interfaceCount: number;
  readonly functionClass: number;
  readonly functionSubClass: number;
  readonly functionProtocol: number;
  readonly functionIndex: number;
}

/** Endpoint descriptor with the derived quantities drivers need. */
export interface UsbEndpoint {
  readonly address: number;
  readonly direction: 'in' | 'out';
  readonly transfer: UsbTransferType;
  readonly attributes: number;
  /** wMaxPacketSize as stored (bits 12..11 = additional transactions per microframe). */
  readonly rawMaxPacketSize: number;
  /** wMaxPacketSize bits 10..0. */
  readonly maxPacketSize: number;
  readonly interval: number;
  /** SuperSpeed companion wBytesPerInterval, when a companion descriptor follows. */
  readonly ssBytesPerInterval?: number;
  /** Bytes per service interval: SS companion value, else maxPacketSize × (1 + mult) (high-bandwidth decoded). */
  readonly bytesPerInterval: number;
  /** Class-specific descriptors following this endpoint (views into the caller's buffer). */
  readonly extra: RawDescriptor[];
}

/** One alternate setting of one interface, with its endpoints and the class-specific descriptors that follow it. */
export interface UsbInterface {
  readonly number: number;
  readonly alternateSetting: number;
  readonly interfaceClass: number;
  readonly interfaceSubClass: number;
  readonly interfaceProtocol: number;
  readonly interfaceIndex: number;
  readonly declaredEndpoints: number;
  readonly endpoints: UsbEndpoint[];
  /** Class-specific (and unknown) descriptors between this interface descriptor and its first endpoint. */
  readonly extra: RawDescriptor[];
  readonly offset: number;
}

/** A parsed configuration: header fields, interfaces (every alternate setting), associations, warnings. */
export interface UsbConfiguration {
  readonly totalLength: number;
  readonly numInterfaces: number;
  readonly configurationValue: number;
  readonly attributes: number;
  readonly maxPower: number;
  readonly interfaces: UsbInterface[];
  readonly associations: UsbInterfaceAssociation[];
  readonly warnings: string[];
}

/** Bytes per (micro)frame an endpoint may move: maxp × (1 + additional transactions). */
export function endpointBytesPerInterval(rawMaxPacketSize: number, ssBytesPerInterval?: number): number {
  if (ssBytesPerInterval !== undefined) return ssBytesPerInterval;
  return (rawMaxPacketSize & 0x7ff) * (1 + ((rawMaxPacketSize >> 11) & 3));
}

interface MutableEndpoint extends Omit<UsbEndpoint, 'ssBytesPerInterval' | 'bytesPerInterval'> {
  ssBytesPerInterval?: number;
  bytesPerInterval: number;
}

/**
 * Parses a configuration descriptor blob (the bytes of GET_DESCRIPTOR(CONFIGURATION) with wTotalLength).
 * Best effort: never throws on malformed input; problems (wTotalLength mismatch, truncation, short
 * descriptors, endpoint counts) are reported in `warnings`. Views in the result borrow `bytes`.
 */
export function parseUsbConfiguration(bytes: Uint8Array): UsbConfiguration {
  const warnings: string[] = [];
  let totalLength = bytes.length;
  let numInterfaces = 0;
  let configurationValue = 0;
  let attributes = 0;
  let maxPower = 0;
  let body = bytes;
  if (bytes.length < 9 || u8(bytes, 1) !== UsbDescriptorType.configuration || u8(bytes, 0) < 9) {
    warnings.push(`${formatOffset(0)}: blob does not start with a 9-byte configuration descriptor`);
  } else {
    totalLength = u16(bytes, 2);
    numInterfaces = u8(bytes, 4);
    configurationValue = u8(bytes, 5);
    attributes = u8(bytes, 7);
    maxPower = u8(bytes, 8);
    if (totalLength < bytes.length) {
      warnings.push(
        `wTotalLength ${totalLength} is less than the ${bytes.length} bytes supplied; the excess is ignored`,
      );
      body = bytes.subarray(0, Math.max(totalLength, u8(bytes, 0)));
    } else if (totalLength > bytes.length) {
      warnings.push(
        `configuration truncated: wTotalLength ${totalLength} but only ${bytes.length} bytes supplied (${totalLength - bytes.length} missing)`,
      );
    }
  }
  const { descriptors } = walkDescriptors(body, warnings);
  const interfaces: UsbInterface[] = [];
  const associations: UsbInterfaceAssociation[] = [];
  let current: UsbInterface | undefined;
  let lastEndpoint: MutableEndpoint | undefined;
  for (const d of descriptors) {
    const b = d.bytes;
    switch (d.type) {
      case UsbDescriptorType.configuration:
        if (d.offset !== 0)
          warnings.push(`${formatOffset(d.offset)}: unexpected configuration descriptor; ignored`);
        break;
      case UsbDescriptorType.interfaceAssociation:
        if (d.length < 8) {
          warnings.push(
            `${formatOffset(d.offset)}: interface association descriptor too short (${d.length} < 8)`,
          );
          break;
        }
        associations.push({
          firstInterface: u8(b, 2),
          interfaceCount: u8(b, 3),
          functionClass: u8(b, 4),
          functionSubClass: u8(b, 5),
          functionProtocol: u8(b, 6),
          functionIndex: u8(b, 7),
        });
        break;
      case UsbDescriptorType.interface:
        if (d.length < 9) {
          warnings.push(
            `${formatOffset(d.offset)}: interface descriptor too short (${d.length} < 9); ignored`,
          );
          current = undefined;
          lastEndpoint = undefined;
          break;
        }
        if (current && current.endpoints.length !== current.declaredEndpoints) {
          warnings.push(
            `interface ${current.number} alt ${current.alternateSetting} declares ${current.declaredEndpoints} endpoints but has ${current.endpoints.length}`,
          );
        }
        current = {
          number: u8(b, 2),
          alternateSetting: u8(b, 3),
          declaredEndpoints: u8(b, 4),
          interfaceClass: u8(b, 5),
          interfaceSubClass: u8(b, 6),
          interfaceProtocol: u8(b, 7),
          interfaceIndex: u8(b, 8),
          endpoints: [],
          extra: [],
          offset: d.offset,
        };
        lastEndpoint = undefined;
        interfaces.push(current);
        break;
      case UsbDescriptorType.endpoint: {
        if (d.length < 7) {
          warnings.push(
            `${formatOffset(d.offset)}: endpoint descriptor too short (${d.length} < 7); ignored`,
          );
          break;
        }
        if (!current) {
          warnings.push(`${formatOffset(d.offset)}: endpoint descriptor outside any interface; ignored`);
          break;
        }
        const address = u8(b, 2);
        const attrs = u8(b, 3);
        const raw = u16(b, 4);
        lastEndpoint = {
          address,
          direction: address & 0x80 ? 'in' : 'out',
          transfer: TRANSFER_TYPES[attrs & 3] ?? 'control',
          attributes: attrs,
          rawMaxPacketSize: raw,
          maxPacketSize: raw & 0x7ff,
          interval: u8(b, 6),
          bytesPerInterval: endpointBytesPerInterval(raw),
          extra: [],
        };
        current.endpoints.push(lastEndpoint);
        break;
      }
      case UsbDescriptorType.superSpeedEndpointCompanion:
        if (lastEndpoint && d.length >= 6) {
          lastEndpoint.ssBytesPerInterval = u16(b, 4);
          lastEndpoint.bytesPerInterval = u16(b, 4);
        } else {
          warnings.push(`${formatOffset(d.offset)}: stray or short SuperSpeed endpoint companion; ignored`);
        }
        break;
      default:
        // Class-specific descriptors belong to the endpoint they follow, else to the interface.
        if (lastEndpoint) lastEndpoint.extra.push(d);
        else if (current) current.extra.push(d);
        else if (d.type !== UsbDescriptorType.string)
          warnings.push(
            `${formatOffset(d.offset)}: descriptor type 0x${d.type.toString(16)} before any interface; ignored`,
          );
    }
  }
  if (current && current.endpoints.length !== current.declaredEndpoints) {
    warnings.push(
      `interface ${current.number} alt ${current.alternateSetting} declares ${current.declaredEndpoints} endpoints but has ${current.endpoints.length}`,
    );
  }
  const distinct = new Set(interfaces.map((i) => i.number)).size;
  if (numInterfaces && distinct !== numInterfaces) {
    warnings.push(`bNumInterfaces is ${numInterfaces} but ${distinct} interfaces were found`);
  }
  return {
    totalLength,
    numInterfaces,
    configurationValue,
    attributes,
    maxPower,
    interfaces,
    associations,
    warnings,
  };
}
