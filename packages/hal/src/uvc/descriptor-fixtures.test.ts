// Descriptor tests over 25 real cameras from ../shared/fixtures/uvc (skipped when absent), cross-checked with their lsusb dumps.

import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseUvcConfiguration } from './uvc-configuration.js';
import type { UvcConfiguration } from './uvc-configuration.js';
import { parseUsbDeviceDescriptor } from './usb-descriptor.js';
import { UVC15_CONTROL_NAMES } from './controls.js';

const ROOT =
  process.env['KSEMU_UVC_FIXTURES'] ??
  fileURLToPath(new URL('../../../../../shared/fixtures/uvc/', import.meta.url));
const present = existsSync(join(ROOT, 'bin'));
const d = present ? describe : describe.skip;

function bin(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(join(ROOT, 'bin', rel)));
}
function parse(rel: string): UvcConfiguration {
  return parseUvcConfiguration(bin(rel));
}
/** "FOURCC:frames" (or type) per format of each streaming interface of each function. */
function shape(r: UvcConfiguration): string[][] {
  return r.functions.map((f) =>
    f.streamingInterfaces.map(
      (s) =>
        `${s.interface}/${s.transfer}:` +
        s.formats.map((x) => `${x.fourcc ?? x.type}x${x.frames.length}`).join(','),
    ),
  );
}

interface Expect {
  bcd: string[];
  shape: string[][];
  warnings?: RegExp[];
}

// Expectations read from the lsusb / USB Device Tree Viewer dumps of each camera.
const CAMERAS: Record<string, Expect> = {
  'esp-usb/esp_anker_powerconf_c200.config.bin': {
    bcd: ['1.10'],
    shape: [['1/isochronous:MJPGx6,YUY2x3,H264x6']],
  },
  'esp-usb/esp_canyon_cne_cwc2.config.bin': { bcd: ['1.00'], shape: [['1/isochronous:YUY2x9,MJPGx9']] },
  'esp-usb/esp_customer_bulk.config.bin': {
    bcd: ['1.00'],
    shape: [['1/bulk:MJPGx4']],
    warnings: [/wTotalLength 484 but only 483 bytes/, /truncated/],
  },
  'esp-usb/esp_customer_bulk.config.usbtreeview-hexdump.bin': { bcd: ['1.00'], shape: [['1/bulk:MJPGx4']] },
  'esp-usb/esp_customer_dual.config.bin': {
    bcd: ['1.00', '1.00'],
    shape: [['1/isochronous:MJPGx1'], ['3/isochronous:H265x5']],
  },
  'esp-usb/esp_dual_tusb.config.bin': {
    bcd: ['1.50', '1.50'],
    shape: [['1/bulk:MJPGx1'], ['3/bulk:MJPGx1']],
  },
  'esp-usb/esp_elp_h264.config.bin': {
    bcd: ['1.00'],
    shape: [['1/isochronous:MJPGx8,YUY2x6', '2/isochronous:H264x8']],
  },
  'esp-usb/esp_elp_h265.config.bin': {
    bcd: ['1.10'],
    shape: [['1/isochronous:MJPGx8,H264x8,H265x8,YUY2x6']],
  },
  'esp-usb/esp_logitech_c270.config.bin': {
    bcd: ['1.00'],
    shape: [['1/isochronous:YUY2x19,MJPGx19']],
    warnings: [/declares 3 formats but has 2/],
  },
  'esp-usb/esp_logitech_streamcam.config.bin': { bcd: ['1.00'], shape: [['1/isochronous:YUY2x10,MJPGx10']] },
  'esp-usb/esp_old_logitech_c980.config.bin': { bcd: ['1.00'], shape: [['1/isochronous:YUY2x1,MJPGx5']] },
  'esp-usb/esp_trust_webcam.config.bin': { bcd: ['1.00'], shape: [['1/isochronous:YUY2x6']] },
  'gallimaufry/pcap_logitech_c310.config.bin': {
    bcd: ['1.00'],
    shape: [['1/isochronous:YUY2x19,MJPGx19']],
    warnings: [/VS interface 1 header declares 3 formats but has 2/],
  },
  'libuvc/libuvc_isight_imac.config.inferred.bin': { bcd: ['1.00'], shape: [['1/isochronous:UYVYx3']] },
  'libuvc/libuvc_isight_macbook.config.inferred.bin': { bcd: ['1.00'], shape: [['1/isochronous:UYVYx3']] },
  'libuvc/libuvc_logitech_c920.config.inferred.bin': {
    bcd: ['1.00'],
    shape: [['1/isochronous:YUY2x19,H264x17,MJPGx17']],
  },
  'libuvc/libuvc_ms_lifecam_show.config.inferred.bin': {
    bcd: ['1.00'],
    shape: [['1/isochronous:YUY2x6,MJPGx9']],
  },
  'libuvc/libuvc_quickcam_pro_9000.config.inferred.bin': {
    bcd: ['1.00'],
    shape: [['1/isochronous:YUY2x18,MJPGx18']],
    warnings: [/declares 3 formats but has 2/],
  },
  'linuxhw-lsusb/lsusb_apple_05ac_8509.config.inferred.bin': {
    bcd: ['1.00'],
    shape: [['1/isochronous:YUY2x6,MJPGx3']],
  },
  'linuxhw-lsusb/lsusb_chicony_04f2_b209.config.inferred.bin': {
    bcd: ['1.00'],
    shape: [['1/isochronous:YUY2x5']],
  },
  'linuxhw-lsusb/lsusb_realtek_0bda_5517_rgb_ir.config.inferred.bin': {
    bcd: ['1.10', '1.50'],
    shape: [['1/isochronous:MJPGx5,YUY2x6'], ['3/isochronous:uncompressedx1']],
  },
  'linuxhw-lsusb/lsusb_realtek_0bda_5716_bulk.config.inferred.bin': {
    bcd: ['1.00'],
    shape: [['1/bulk:YUY2x10,MJPGx10']],
    warnings: [/unknown VS subtype 0xe/],
  },
  'linuxhw-lsusb/lsusb_realtek_0bda_58f4_rgb_ir.config.inferred.bin': {
    bcd: ['1.50', '1.50'],
    shape: [['1/isochronous:MJPGx4,YUY2x6'], ['3/isochronous:uncompressedx1']],
  },
  'linuxhw-lsusb/lsusb_suyin_064e_a219.config.inferred.bin': {
    bcd: ['1.00'],
    shape: [['1/isochronous:YUY2x7']],
  },
  'linuxhw-lsusb/lsusb_syntek_174f_1169.config.inferred.bin': {
    bcd: ['1.00'],
    shape: [['1/isochronous:YUY2x5']],
  },
  'linuxhw-lsusb/lsusb_syntek_174f_1447.config.inferred.bin': {
    bcd: ['1.00'],
    shape: [['1/isochronous:YUY2x6']],
    warnings: [/unknown VS subtype 0xe/, /unknown VS subtype 0xf/],
  },
};

d('real camera descriptors', () => {
  it('covers every configuration file in the fixture folder', () => {
    const files = readdirSync(join(ROOT, 'bin')).flatMap((dir) =>
      readdirSync(join(ROOT, 'bin', dir))
        .filter((f) => f.includes('.config.'))
        .map((f) => `${dir}/${f}`),
    );
    expect(files.sort()).toEqual(Object.keys(CAMERAS).sort());
  });

  for (const [file, exp] of Object.entries(CAMERAS)) {
    it(`${file}: functions, formats and frame counts`, () => {
      const r = parse(file);
      expect(r.functions.map((f) => f.bcdUVC)).toEqual(exp.bcd);
      expect(shape(r)).toEqual(exp.shape);
      for (const w of exp.warnings ?? []) expect(r.warnings.join('\n')).toMatch(w);
      for (const f of r.functions) {
        for (const s of f.streamingInterfaces) {
          expect(s.altSettings.length).toBeGreaterThan(0);
          for (const fm of s.formats)
            for (const fr of fm.frames) expect(fr.width * fr.height).toBeGreaterThan(0);
        }
      }
    });
  }

  it('Logitech C920: controls, GUIDs, frame-based H.264 intervals, high-bandwidth alt settings', () => {
    const r = parse('libuvc/libuvc_logitech_c920.config.inferred.bin');
    const f = r.functions[0]!;
    expect(f.clockFrequency).toBe(300_000_000);
    expect(f.inputTerminals[0]!.bmControls).toBe(0x020a2e);
    expect(f.inputTerminals[0]!.controls).toContain('focus-auto');
    expect(f.processingUnits[0]!.bmControls).toBe(0x175b);
    expect(f.extensionUnits.map((x) => x.guid)).toContain('23e49ed0-1178-4f31-ae52-d2fb8a8d3b48');
    const s = f.streamingInterfaces[0]!;
    expect(s.endpointAddress).toBe(0x81);
    expect(s.altSettings.at(-1)).toEqual({ alt: 11, maxPacketSize: 1020, bytesPerInterval: 3060 });
    const [yuy2, h264, mjpg] = s.formats;
    expect(yuy2!.guid).toBe('32595559-0000-0010-8000-00aa00389b71');
    expect(yuy2!.frames[0]).toEqual({
      index: 1,
      width: 640,
      height: 480,
      intervals: [333333, 416666, 500000, 666666, 1000000, 1333333, 2000000],
      maxFrameBufferSize: 614400,
    });
    expect(h264!.type).toBe('frame-based');
    expect(h264!.frames[0]!.intervals).toEqual([333333, 416666, 500000, 666666, 1000000, 1333333, 2000000]);
    expect(mjpg!.type).toBe('mjpeg');
    expect(mjpg!.frames.map((x) => `${x.width}x${x.height}`)).toContain('1920x1080');
  });

  it('Syntek 174f:1447: private GUID formats stay opaque, still frames and 1.0 PU parsed', () => {
    const r = parse('linuxhw-lsusb/lsusb_syntek_174f_1447.config.inferred.bin');
    const s = r.functions[0]!.streamingInterfaces[0]!;
    expect(s.stillFrames.length).toBeGreaterThan(0);
    expect(r.functions[0]!.processingUnits).toHaveLength(1);
  });

  it('device descriptors parse', () => {
    const dev = parseUsbDeviceDescriptor(bin('libuvc/libuvc_logitech_c920.device.bin'));
    expect(dev.vendorId).toBe(0x046d);
    expect(dev.productId).toBe(0x082d);
  });

  // Generic cross-check against every lsusb text dump: frame sizes in order and format frame counts.
  const TEXTS: Record<string, string> = {
    'libuvc/isight_imac.txt': 'libuvc/libuvc_isight_imac.config.inferred.bin',
    'libuvc/logitech_hd_pro_920.txt': 'libuvc/libuvc_logitech_c920.config.inferred.bin',
    'libuvc/ms_lifecam_show.txt': 'libuvc/libuvc_ms_lifecam_show.config.inferred.bin',
    'libuvc/quickcampro9000.txt': 'libuvc/libuvc_quickcam_pro_9000.config.inferred.bin',
    'linuxhw-lsusb/apple_05ac_8509__E513CFBADB.txt':
      'linuxhw-lsusb/lsusb_apple_05ac_8509.config.inferred.bin',
    'linuxhw-lsusb/chicony_04f2_b209__C6752AF396.txt':
      'linuxhw-lsusb/lsusb_chicony_04f2_b209.config.inferred.bin',
    'linuxhw-lsusb/realtek_0bda_5517__F65712C862.txt':
      'linuxhw-lsusb/lsusb_realtek_0bda_5517_rgb_ir.config.inferred.bin',
    'linuxhw-lsusb/realtek_0bda_5716__9A7E1E24C0.txt':
      'linuxhw-lsusb/lsusb_realtek_0bda_5716_bulk.config.inferred.bin',
    'linuxhw-lsusb/realtek_0bda_58f4__48E4EDBA18.txt':
      'linuxhw-lsusb/lsusb_realtek_0bda_58f4_rgb_ir.config.inferred.bin',
    'linuxhw-lsusb/suyin_064e_a219__9271BAD066.txt':
      'linuxhw-lsusb/lsusb_suyin_064e_a219.config.inferred.bin',
    'linuxhw-lsusb/syntek_174f_1169__07FCDE3D1F.txt':
      'linuxhw-lsusb/lsusb_syntek_174f_1169.config.inferred.bin',
    'linuxhw-lsusb/syntek_174f_1447__3CD48CF0ED.txt':
      'linuxhw-lsusb/lsusb_syntek_174f_1447.config.inferred.bin',
  };
  for (const [text, binary] of Object.entries(TEXTS)) {
    it(`${text}: frame sizes and video endpoint packet sizes agree with lsusb`, () => {
      const dump = readFileSync(join(ROOT, 'text', text), 'utf8');
      const sizes: string[] = [];
      // Decoded frame descriptors, or raw "INTERFACE CLASS:" hex lines when lsusb could not decode them.
      const re = /^\s+wWidth\s+(\d+)\s*\n\s+wHeight\s+(\d+)|INTERFACE CLASS:\s+([0-9a-f ]+)/gm;
      for (let m = re.exec(dump); m; m = re.exec(dump)) {
        if (m[1] !== undefined) sizes.push(`${m[1]}x${m[2]}`);
        else {
          const b = (m[3] ?? '')
            .trim()
            .split(/\s+/)
            .map((x) => parseInt(x, 16));
          if (b[1] === 0x24 && [0x05, 0x07, 0x11].includes(b[2] ?? 0)) {
            sizes.push(`${b[5]! | (b[6]! << 8)}x${b[7]! | (b[8]! << 8)}`);
          }
        }
      }
      const r = parse(binary);
      const parsed = r.functions.flatMap((f) =>
        f.streamingInterfaces.flatMap((s) =>
          s.formats.flatMap((fm) => fm.frames.map((fr) => `${fr.width}x${fr.height}`)),
        ),
      );
      expect(parsed).toEqual(sizes);
      const psRe = /wMaxPacketSize\s+0x([0-9a-f]{4})/g;
      const lsusbPackets = new Set<number>();
      for (let m = psRe.exec(dump); m; m = psRe.exec(dump)) lsusbPackets.add(parseInt(m[1]!, 16) & 0x7ff);
      for (const f of r.functions)
        for (const s of f.streamingInterfaces)
          for (const a of s.altSettings) expect(lsusbPackets.has(a.maxPacketSize)).toBe(true);
    });
  }

  /** lsusb's control names → ours (lsusb decodes the same bmControls bits with its own table). */
  function lsusbControlName(n: string): string {
    if (n === 'Analog Video Lock Status') return 'analog-lock-status';
    return n
      .toLowerCase()
      .replace('auto-exposure', 'ae')
      .replace(', auto', '-auto')
      .replace(', simple', '-simple')
      .replace(' (absolute)', '-absolute')
      .replace(' (relative)', '-relative')
      .replace(/ /g, '-');
  }
  for (const [text, binary] of Object.entries(TEXTS)) {
    it(`${text}: camera terminal and processing unit controls agree with lsusb's decoding`, () => {
      const lines = readFileSync(join(ROOT, 'text', text), 'utf8').split('\n');
      const blocks: string[] = [];
      for (let i = 0; i < lines.length; i++) {
        const m = /^(\s+)bmControls\s+0x([0-9a-f]+)\s*$/.exec(lines[i]!);
        if (!m) continue;
        const indent = m[1]!.length;
        const names: string[] = [];
        for (let k = i + 1; k < lines.length && /^\s*/.exec(lines[k]!)![0].length > indent; k++)
          names.push(lines[k]!.trim());
        // lsusb's decoding of the 1.5-only bits depends on its version and the device's; compare the rest.
        const ours = names
          .filter((n) => n !== 'Reserved')
          .map(lsusbControlName)
          .filter((n) => !UVC15_CONTROL_NAMES.has(n));
        blocks.push(`${parseInt(m[2]!, 16)}:${ours.join(',')}`);
      }
      const r = parse(binary);
      const parsed = r.functions.flatMap((f) => [
        ...f.inputTerminals
          .filter((t) => t.type === 'camera')
          .map(
            (t) =>
              `${t.bmControls}:${t.controls.filter((c) => !/^bit\d+$/.test(c) && !UVC15_CONTROL_NAMES.has(c)).join(',')}`,
          ),
        ...f.processingUnits.map(
          (p) => `${p.bmControls}:${p.controls.filter((c) => !UVC15_CONTROL_NAMES.has(c)).join(',')}`,
        ),
      ]);
      expect(parsed.sort()).toEqual(blocks.sort());
    });
  }

  it('fuzz: mutated and truncated real descriptors never throw', () => {
    const blobs = Object.keys(CAMERAS).map(bin);
    fc.assert(
      fc.property(
        fc.nat(blobs.length - 1),
        fc.array(fc.tuple(fc.nat(4000), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }),
        fc.nat(4000),
        (which, edits, cut) => {
          const src = blobs[which]!;
          const b = src.slice(0, Math.min(src.length, cut + 9));
          for (const [i, v] of edits) if (i < b.length) b[i] = v;
          const r = parseUvcConfiguration(b);
          JSON.stringify(r);
          if (b.length < src.length) expect(r.warnings.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
