/** Is an extracted value supported by its quote, and does the quote occur in the text? */
import { checkSupport, datesIn, numberSupported, stringSupported } from '../../nodes/AiExtract/support';

describe('numbers', () => {
	it.each([
		[1234.5, 'Total: 1,234.50 EUR'],
		[1234.5, 'Gesamtbetrag: 1.234,50 €'],
		[1234.5, 'Montant : 1 234,50 €'],
		[1234.5, "Total CHF 1'234.50"],
		[1234567, 'Amount 1.234.567'],
		[19, 'VAT 19 %'],
		[0.19, 'VAT 19%'],
		[-40, 'Credit: -40.00'],
		[42, 'Qty 42'],
		[12.5, 'Price: 12,5'],
	])('%d is in %j', (value, quote) => {
		expect(numberSupported(value, quote)).toBe(true);
	});

	it.each([
		[1243.5, 'Total: 1,234.50 EUR'],
		[9999, 'Total: 1,234.50 EUR'],
		[12.5, 'Invoice 125'],
	])('%d is not in %j', (value, quote) => {
		expect(numberSupported(value, quote)).toBe(false);
	});
});

describe('dates', () => {
	it('reads the usual ways of writing a date', () => {
		expect(datesIn('Due: 2024-03-12')).toContain('2024-03-12');
		expect(datesIn('Fällig am 12.03.2024')).toContain('2024-03-12');
		expect(datesIn('Due 03/12/2024')).toEqual(expect.arrayContaining(['2024-03-12', '2024-12-03']));
		expect(datesIn('Invoice date: 12 March 2024')).toContain('2024-03-12');
		expect(datesIn('dated March 12th, 2024')).toContain('2024-03-12');
		expect(datesIn('le 1er avril 2024')).toContain('2024-04-01');
		expect(datesIn('on 31 February 2024')).toEqual([]);
	});
});

describe('strings', () => {
	it('accepts the value or most of its words, and refuses other words', () => {
		expect(stringSupported('ACME GmbH', 'From: ACME  GmbH, Berlin')).toBe(true);
		expect(stringSupported('Acme Office Supplies Ltd', 'Acme Office Supplies Limited')).toBe(true);
		expect(stringSupported('Globex Corporation', 'From: ACME GmbH')).toBe(false);
	});
});

describe('checkSupport', () => {
	const text = 'Hello,\nplease find attached invoice INV-2024-0193.\nTotal due: 1.240,00 EUR by 15 April 2024.\nBest, ACME';

	it('supports a value whose quote occurs in the text and states it', () => {
		expect(checkSupport(text, 1240, 'Total due: 1.240,00 EUR', 'number')).toEqual({ supported: true });
		expect(checkSupport(text, '2024-04-15', 'by 15 April 2024', 'date')).toEqual({ supported: true });
		expect(checkSupport(text, 'INV-2024-0193', 'invoice   INV-2024-0193', 'string')).toEqual({ supported: true });
		expect(checkSupport(text, 'EUR', '1.240,00 EUR', 'enum')).toEqual({ supported: true });
		expect(checkSupport(text, null, null, 'string')).toEqual({ supported: true });
	});

	it('flags a quote that is not in the text, a missing quote, and a value the quote does not state', () => {
		expect(checkSupport(text, 1240, 'Total: 1,240.00 USD', 'number')).toEqual({ supported: false, problem: 'the quote does not occur in the text' });
		expect(checkSupport(text, 1240, null, 'number').supported).toBe(false);
		expect(checkSupport(text, 1420, 'Total due: 1.240,00 EUR', 'number')).toEqual({
			supported: false,
			problem: 'the number 1420 does not appear in the quote',
		});
		expect(checkSupport(text, '2024-05-15', 'by 15 April 2024', 'date').supported).toBe(false);
		expect(checkSupport(text, ['INV-2024-0193', 'INV-9'], 'invoice INV-2024-0193', 'list').supported).toBe(false);
	});
});
