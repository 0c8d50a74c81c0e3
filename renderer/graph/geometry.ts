// Where a node sits in the graph: ID-space geometry.
//
// The angle is the id's position in the 256-bit space (its leading bits, clockwise from the top), so
// nodes close in XOR distance sit at close angles and a lookup visibly converges on its target's angle.
// The radius comes from the bucket the id falls in from our node: bucket 0 (the far half of the space)
// is the outer ring and every closer bucket is a ring nearer the centre, where our node sits. Within a
// ring, lower id bits push a node a little in or out so ids with similar prefixes do not overlap.
import { bitsFraction, bucketOf, leadingFraction } from '../lib/id';

/** Radius of bucket 0's ring, in graph units (cytoscape model coordinates). */
export const OUTER_RING_RADIUS = 520;
/** Each closer bucket's ring is this fraction of the previous one. */
export const RING_RATIO = 0.8;
/** Buckets nearer than this share the innermost ring (bucket 20+ in practice holds one or two ids). */
export const MAX_RING_BUCKET = 20;
/** Part of the gap to the next ring a node may be pushed in or out by its low bits. */
export const RING_JITTER = 0.55;

export function ringRadius(bucket: number): number {
  const b = Math.max(0, Math.min(bucket, MAX_RING_BUCKET));
  return OUTER_RING_RADIUS * RING_RATIO ** b;
}

/** Angle in radians, 0 at the top, clockwise, from the id's leading 32 bits. */
export function idAngle(id: string): number {
  return leadingFraction(id, 32) * 2 * Math.PI;
}

export interface Point {
  x: number;
  y: number;
}

/** Position of `id` as seen from `self`; self itself is at the origin. */
export function positionOf(self: string, id: string, bucket?: number): Point {
  const b = bucket ?? bucketOf(self, id);
  if (b < 0) return { x: 0, y: 0 };
  const r0 = ringRadius(b);
  const gap = r0 - ringRadius(b + 1);
  // Bits 64..80 are independent of the prefix that decided the angle and the bucket.
  const r = r0 + (bitsFraction(id, 64) - 0.5) * gap * RING_JITTER;
  const a = idAngle(id);
  return { x: round2(r * Math.sin(a)), y: round2(-r * Math.cos(a)) };
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
