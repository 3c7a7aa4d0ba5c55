// The mediums that wire the TV filters together: this card's own medium set GUID, ids unique per device, as WDM TV drivers declare them.
import { knownGuids, MediumSetId, type Guid, type Medium } from '@ksemu/ks-core';

/**
 * KSMEDIUMSETID of the ksemu TV card. KSMEDIUMSETID_Standard means "no particular medium" and
 * the graph builder never connects pins by it, so a WDM TV driver names its board's internal
 * wires (tuner → crossbar → decoder, tuner → TV audio) with a medium set GUID of its own, and
 * keeps Standard (id 0) only for jacks no filter feeds. Registered so tools print its name.
 */
export const TV_CARD_MEDIUM_SET: Guid = knownGuids.register(
  'KSMEDIUMSETID_KsemuTvCard',
  '523df353-5451-42bc-b5b9-21d7f529b064',
);

/** The physical connections inside one TV card. */
export interface TvMediums {
  readonly tunerVideo: Medium;
  readonly tunerAudio: Medium;
  readonly tvAudioOut: Medium;
  readonly decoderIn: Medium;
  readonly decoderOut: Medium;
  readonly audioOut: Medium;
  /**
   * A physical connector on the card's back panel (composite, S-video, line in): no filter feeds
   * it, so it carries KSMEDIUMSETID_Standard id 0, which never connects.
   */
  readonly connector: Medium;
}

/**
 * Mediums for the device `deviceId`, in {@link TV_CARD_MEDIUM_SET}. Ids are derived from the
 * device id (FNV-1a) so two cards in one system never share a medium, and the same card always
 * gets the same ones.
 */
export function tvMediums(deviceId: string): TvMediums {
  let h = 0x811c9dc5;
  for (let i = 0; i < deviceId.length; i++) h = Math.imul(h ^ deviceId.charCodeAt(i), 0x01000193);
  const base = ((h >>> 8) & 0xffff) << 8;
  const m = (n: number): Medium => Object.freeze({ set: TV_CARD_MEDIUM_SET, id: (base | n) >>> 0, flags: 0 });
  return Object.freeze({
    tunerVideo: m(1),
    tunerAudio: m(2),
    tvAudioOut: m(3),
    decoderIn: m(4),
    decoderOut: m(5),
    audioOut: m(6),
    connector: Object.freeze({ set: MediumSetId.Standard, id: 0, flags: 0 }),
  });
}
