// Mediums (KSPIN_MEDIUM): build, compare, and find which pins of several filter descriptors are wired together.
import { isGuid, type Guid } from './guid.js';
import type { FilterDescriptor, Medium } from './descriptors.js';
import { MediumSetId } from './known-guids.js';

/**
 * A frozen medium. Filters of one board share a medium set GUID and use the id to name each
 * physical wire (tuner video out ↔ crossbar video in), as KSMEDIUM does.
 * @throws TypeError for a malformed GUID or non-integer id/flags.
 */
export function medium(set: Guid, id: number, flags = 0): Medium {
  if (!isGuid(set)) throw new TypeError(`medium set must be a normalised GUID, got ${String(set)}`);
  if (!Number.isInteger(id) || id < 0 || !Number.isInteger(flags) || flags < 0)
    throw new TypeError('medium id and flags must be non-negative integers');
  return Object.freeze({ set, id, flags });
}

/** Equality as KS compares mediums: set and id (flags are not part of the identity). */
export function mediumEquals(a: Medium, b: Medium): boolean {
  return a.set === b.set && a.id === b.id;
}

/** True for KSMEDIUMSETID_Standard (any id): "no particular medium", never a physical connection. */
export function isStandardMedium(m: Medium): boolean {
  return m.set === MediumSetId.Standard;
}

/** One physical connection between an `out` pin of one filter and an `in` pin of another. */
export interface MediumConnection {
  readonly from: { readonly filter: number; readonly pin: number };
  readonly to: { readonly filter: number; readonly pin: number };
  readonly medium: Medium;
}

/**
 * Finds every pair of pins (output of one filter → input of another) that share a non-standard
 * medium, in descriptor order: what a graph builder uses to wire tuner → crossbar → capture.
 * Mediums in KSMEDIUMSETID_Standard never connect, whatever their id: on Windows that set means
 * "no particular medium", so a board names its wires with a medium set GUID of its own.
 * Indices refer to the `filters` array and each descriptor's `pins`.
 */
export function findMediumConnections(filters: readonly FilterDescriptor[]): MediumConnection[] {
  const out: MediumConnection[] = [];
  filters.forEach((fa, a) =>
    fa.pins.forEach((pa, i) => {
      if (pa.dataFlow !== 'out') return;
      for (const m of pa.mediums) {
        if (isStandardMedium(m)) continue;
        filters.forEach((fb, b) => {
          if (a === b) return;
          fb.pins.forEach((pb, j) => {
            if (pb.dataFlow === 'in' && pb.mediums.some((n) => mediumEquals(m, n))) {
              out.push({ from: { filter: a, pin: i }, to: { filter: b, pin: j }, medium: m });
            }
          });
        });
      }
    }),
  );
  return out;
}
