/**
 * Memory for small message bodies. Allocating a typed array costs about a microsecond however
 * small it is (more than routing a message), so bodies up to {@link SLAB_MAX_BODY} bytes are
 * carved out of shared 64 KiB slabs instead: a view into a slab costs a tenth of that.
 *
 * The price is that a slab stays in memory while any body in it is alive. Messages mostly leave
 * queues in the order they came, so slabs free whole; for a message that may outlive its
 * neighbours by far (a dead-lettered copy headed for a parking queue), {@link unpinned} gives the
 * body its own buffer.
 */
const SLAB_SIZE = 64 * 1024;
/** Bodies above this get their own buffer (the allocation's cost is small next to their size). */
export const SLAB_MAX_BODY = 2048;

let slab = new Uint8Array(SLAB_SIZE);
let slabUsed = 0;

/** A zeroed buffer of exactly `size` bytes for a body (size ≤ SLAB_MAX_BODY: from a slab). */
export function bodyBuffer(size: number): Uint8Array {
  if (size > SLAB_MAX_BODY) return new Uint8Array(size);
  if (slabUsed + size > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  const b = slab.subarray(slabUsed, slabUsed + size);
  slabUsed += size;
  return b;
}

/** The body, in a buffer of its own when it is a view into a shared slab. */
export function unpinned(body: Uint8Array): Uint8Array {
  return body.buffer.byteLength === SLAB_SIZE && body.length < SLAB_SIZE ? body.slice() : body;
}
