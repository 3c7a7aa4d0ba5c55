// The minidriver contract in one place: Minidriver (filter level) and PinDispatch (pin level), re-exported from where they are implemented.
export type { Minidriver } from './filter.js';
export type { KsState, PinDispatch } from './pin.js';
export type { PropertyContext, PropertyItem, PropertyMode, PropertyValue } from './property-set.js';
