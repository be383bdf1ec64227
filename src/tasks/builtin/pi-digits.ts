/**
 * Digits of π, one at a time, by the Rabinowitz–Wagon spigot: plain numbers,
 * O(n²) work, and each digit is final when it leaves (held 9s are released
 * once the next digit shows whether a carry comes).
 */
export function* piDigits(count: number): Generator<number> {
  // A few guard digits, so the last requested ones are settled (not held back).
  const rounds = count + 12;
  const size = Math.floor((10 * rounds) / 3) + 2;
  const remainders = new Array<number>(size).fill(2);
  let emitted = 0;
  let held: number | undefined;
  let nines = 0;

  for (let round = 0; round < rounds; round++) {
    let carry = 0;
    for (let i = size - 1; i > 0; i--) {
      const x = remainders[i]! * 10 + carry * (i + 1);
      const denominator = 2 * i + 1;
      remainders[i] = x % denominator;
      carry = Math.floor(x / denominator);
    }
    const x = remainders[0]! * 10 + carry;
    remainders[0] = x % 10;
    const digit = Math.floor(x / 10);

    if (digit === 9) {
      nines++;
      continue;
    }
    const bump = digit === 10 ? 1 : 0;
    if (held !== undefined) {
      yield held + bump;
      if (++emitted === count) return;
    }
    for (; nines > 0; nines--) {
      yield bump ? 0 : 9;
      if (++emitted === count) return;
    }
    held = bump ? 0 : digit;
  }
}
