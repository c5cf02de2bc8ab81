// Pure load balancing: least outstanding requests, with a hard per-replica capacity.

/** A replica as the balancer sees it: how many of this gateway's requests it holds now. */
export interface Candidate {
  id: string;
  outstanding: number;
}

/**
 * Picks the candidate with the fewest outstanding requests among those below `capacity`;
 * undefined when every one is full (the request must wait). Ties go to
 * `ties[rotation % ties.length]`, so a caller that bumps `rotation` spreads equal load round-robin
 * instead of piling onto the first replica listed.
 */
export function pickLeastOutstanding(candidates: ReadonlyArray<Candidate>, capacity: number, rotation = 0): string | undefined {
  let least = Number.POSITIVE_INFINITY;
  let tieCount = 0;
  for (const c of candidates) {
    if (c.outstanding >= capacity) continue;
    if (c.outstanding < least) {
      least = c.outstanding;
      tieCount = 1;
    } else if (c.outstanding === least) {
      tieCount++;
    }
  }
  if (tieCount === 0) return undefined;
  // Second pass instead of collecting ties in an array: this runs once per request.
  let wanted = rotation % tieCount;
  for (const c of candidates) {
    if (c.outstanding !== least) continue;
    if (wanted === 0) return c.id;
    wanted--;
  }
  return undefined;
}
