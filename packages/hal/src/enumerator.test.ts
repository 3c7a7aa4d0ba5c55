// Tests of the Enumerator: providers, hotplug forwarding, failing providers, factories.
import { describe, expect, it } from '@jest/globals';
import { BUILT_IN_SYNTHETIC_KINDS } from './synthetic-kinds.js';
import { Enumerator, type DeviceProvider } from './enumerator.js';
import type { HalDevice } from './hal-device.js';
import { SyntheticCamera } from './synthetic-camera.js';

function fakeProvider(
  initial: HalDevice[],
): DeviceProvider & { plug(d: HalDevice): void; pull(id: string): void; watchers: number } {
  let devices = [...initial];
  const listeners = new Set<{ added(d: HalDevice): void; removed(id: string): void }>();
  return {
    name: 'fake',
    watchers: 0,
    async list() {
      return devices;
    },
    watch(listener) {
      listeners.add(listener);
      this.watchers = listeners.size;
      return () => {
        listeners.delete(listener);
        this.watchers = listeners.size;
      };
    },
    plug(d) {
      devices.push(d);
      for (const l of listeners) l.added(d);
    },
    pull(id) {
      devices = devices.filter((d) => d.identity.id !== id);
      for (const l of listeners) l.removed(id);
    },
  };
}

describe('Enumerator', () => {
  it('lists synthetic devices first, then providers, and forwards provider hotplug', async () => {
    const e = new Enumerator({ synthetic: [{ kind: 'camera' }] }, BUILT_IN_SYNTHETIC_KINDS);
    const usb = fakeProvider([new SyntheticCamera({ id: 'usb:1209:0001' })]);
    const events: string[] = [];
    e.on('add', (d) => events.push(`+${d.identity.id}`));
    e.on('remove', (id) => events.push(`-${id}`));
    e.registerProvider(usb);
    e.registerProvider(usb);
    expect(usb.watchers).toBe(1);
    expect((await e.list()).map((d) => d.identity.id)).toEqual(['synthetic:camera', 'usb:1209:0001']);
    usb.plug(new SyntheticCamera({ id: 'usb:1209:0002' }));
    usb.pull('usb:1209:0001');
    expect(events).toEqual(['+usb:1209:0002', '-usb:1209:0001']);
    expect((await e.list()).map((d) => d.identity.id)).toEqual(['synthetic:camera', 'usb:1209:0002']);
    e.dispose();
    expect(usb.watchers).toBe(0);
  });

  it('skips a provider that fails to list, keeping the others', async () => {
    const e = new Enumerator({ synthetic: [{ kind: 'camera' }] }, BUILT_IN_SYNTHETIC_KINDS);
    e.registerProvider({
      name: 'broken',
      list: () => Promise.reject(new Error('bus error')),
    });
    expect((await e.list()).map((d) => d.identity.id)).toEqual(['synthetic:camera']);
  });

  it('accepts extra factories and rejects bad entries', () => {
    expect(new Enumerator().syntheticKinds).toEqual([]);
    const e = new Enumerator(
      {
        factories: { probe: (entry) => new SyntheticCamera({ id: entry.id, name: 'probe' }) },
        synthetic: [{ kind: 'probe' }],
      },
      BUILT_IN_SYNTHETIC_KINDS,
    );
    expect(e.syntheticKinds).toEqual(expect.arrayContaining(['camera', 'probe']));
    expect(() => e.addSynthetic({ kind: 'camera', options: { pattern: 'plaid' } })).toThrow(TypeError);
    expect(() => e.addSynthetic(null as never)).toThrow(TypeError);
    expect(() => e.registerSyntheticKind('', () => new SyntheticCamera())).toThrow(TypeError);
    expect(
      () =>
        new Enumerator({
          factories: { bad: () => new SyntheticCamera({ id: 'other' }) },
          synthetic: [{ kind: 'bad' }],
        }),
    ).toThrow(TypeError);
  });
});
