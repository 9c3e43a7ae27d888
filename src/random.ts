/**
 * Seeded randomness, for everything random that should be reproducible (the random sorter, a
 * benchmark's or example's data, test backoffs): the same seed gives the same numbers on every
 * machine. Not for cryptography (ids and uuids use `node:crypto`).
 */

/**
 * A small seeded pseudo-random generator: xoshiro128** (Blackman and Vigna), its 128-bit state
 * filled from the seed by splitmix32. Not for cryptography.
 *
 * @example
 * const prng = new Prng(42);
 * prng.next(); // a number in [0, 1), the same for every `new Prng(42)`
 */
export class Prng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const splitmix = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = splitmix();
    this.#b = splitmix();
    this.#c = splitmix();
    this.#d = splitmix();
    if ((this.#a | this.#b | this.#c | this.#d) === 0) this.#a = 1;
  }

  /** The next 32 random bits, as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#b, 5), 7), 9) >>> 0;
    const t = this.#b << 9;
    this.#c ^= this.#a;
    this.#d ^= this.#b;
    this.#b ^= this.#c;
    this.#a ^= this.#d;
    this.#c ^= t;
    this.#d = rotl(this.#d, 11);
    return result;
  }

  /** A number in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * A function of uniform numbers in [0, 1) from `seed` (for `random` options such as the drivers'
 * and agents' backoff jitter).
 *
 * @example
 * const random = seededRandom(7);
 * random(); // the same first number for every seededRandom(7)
 */
export function seededRandom(seed: number): () => number {
  const prng = new Prng(seed);
  return () => prng.next();
}
