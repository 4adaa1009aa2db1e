import { checkBasicAuth, checkHeaderSecret, isReviewerAllowed, parseAllowList, parseBasicAuthHeader, safeEqual } from '../../nodes/HumanCheckpoint/auth';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('reviewer authentication', () => {
	it('accepts the right basic auth and returns the user', () => {
		expect(checkBasicAuth(basic('ada', 'pa:ss'), { user: 'ada', password: 'pa:ss' })).toBe('ada');
		expect(parseBasicAuthHeader(basic('ada', 'pa:ss'))).toEqual({ user: 'ada', password: 'pa:ss' });
	});

	it('refuses wrong, malformed and missing basic auth', () => {
		const expected = { user: 'ada', password: 'secret' };
		expect(checkBasicAuth(basic('ada', 'wrong'), expected)).toBeUndefined();
		expect(checkBasicAuth(basic('eve', 'secret'), expected)).toBeUndefined();
		expect(checkBasicAuth('Bearer abc', expected)).toBeUndefined();
		expect(checkBasicAuth(`Basic ${Buffer.from('nocolon').toString('base64')}`, expected)).toBeUndefined();
		expect(checkBasicAuth(undefined, expected)).toBeUndefined();
	});

	it('checks a header secret by its (case-insensitive) name', () => {
		const expected = { name: 'X-Review-Secret', value: 's3cret' };
		expect(checkHeaderSecret({ 'x-review-secret': 's3cret' }, expected)).toBe(true);
		expect(checkHeaderSecret({ 'x-review-secret': ['s3cret'] }, expected)).toBe(true);
		expect(checkHeaderSecret({ 'x-review-secret': 's3cre' }, expected)).toBe(false);
		expect(checkHeaderSecret({}, expected)).toBe(false);
		expect(safeEqual('a', 'a')).toBe(true);
		expect(safeEqual('a', 'ab')).toBe(false);
	});

	it('applies the allow-list case-insensitively, empty meaning anyone', () => {
		const list = parseAllowList(' Ada@Example.com, grace hopper ;\n ');
		expect(list).toEqual(['ada@example.com', 'grace hopper']);
		expect(isReviewerAllowed('ADA@example.com ', list)).toBe(true);
		expect(isReviewerAllowed('Grace Hopper', list)).toBe(true);
		expect(isReviewerAllowed('eve@example.com', list)).toBe(false);
		expect(isReviewerAllowed('anyone', parseAllowList(''))).toBe(true);
	});
});
