/**
 * The Wilson score interval of a proportion: `successes` of `trials` agreed, at confidence `z` (1.96 for 95 %).
 * Unlike the plain share it stays honest on few trials: 10 of 10 agreed gives a lower bound of 0.72, not 1.
 * Pure math, tested directly (test/unit/trust-wilson.test.ts).
 */
export const Z_95 = 1.959963984540054;

export interface WilsonInterval {
	lower: number;
	upper: number;
}

export function wilsonInterval(successes: number, trials: number, z: number = Z_95): WilsonInterval {
	if (!Number.isInteger(trials) || trials < 0 || !Number.isInteger(successes) || successes < 0 || successes > trials) {
		throw new RangeError(`wilsonInterval needs 0 <= successes <= trials (integers), got ${successes} of ${trials}`);
	}
	if (trials === 0) return { lower: 0, upper: 1 };
	const p = successes / trials;
	const z2 = z * z;
	const centre = p + z2 / (2 * trials);
	const spread = z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
	const denominator = 1 + z2 / trials;
	// clamp the rounding at the ends: 0 of n has a lower bound of exactly 0, n of n an upper bound of exactly 1
	return {
		lower: successes === 0 ? 0 : Math.max(0, (centre - spread) / denominator),
		upper: successes === trials ? 1 : Math.min(1, (centre + spread) / denominator),
	};
}

export const wilsonLower = (successes: number, trials: number, z?: number): number => wilsonInterval(successes, trials, z).lower;
export const wilsonUpper = (successes: number, trials: number, z?: number): number => wilsonInterval(successes, trials, z).upper;
