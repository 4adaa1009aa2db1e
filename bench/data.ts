/**
 * Deterministic benchmark inputs: support tickets in five categories and supplier invoice e-mails. Every
 * ticket names its category's words so that a keyword-reading model (the local provider server) has one
 * right answer, and `expected` (never sent to the model) lets the runner check that both sides did the work.
 */

export interface Category {
	name: string;
	description: string;
}

export const CATEGORIES: Category[] = [
	{ name: 'billing', description: 'Invoices, charges, refunds and payments' },
	{ name: 'outage', description: 'The service is down, unreachable or failing' },
	{ name: 'access', description: 'Login, passwords and account access' },
	{ name: 'shipping', description: 'Delivery, parcels and tracking' },
	{ name: 'feedback', description: 'Praise, suggestions and feature requests' },
];

const TEMPLATES: Record<string, string[]> = {
	billing: [
		'Hello, I was charged twice for order {n} and the invoice shows the wrong amount. Please refund the extra charge.',
		'Our last invoice {n} lists a payment we never made. Can you check the charges on our account statement?',
		'I need a refund for the yearly plan, the payment went through on {d} although we cancelled.',
	],
	outage: [
		'Since this morning the dashboard is down and the service is unreachable for our whole team (site {n}).',
		'The API has been failing with timeouts since {d}. Nothing loads and our integrations are down.',
		'Everything is down again! Our staff in branch {n} cannot reach the service at all.',
	],
	access: [
		'I cannot log in after the password reset; the login page says my account {n} is locked.',
		'Please help, my colleague lost access to her account and the password link from {d} has expired.',
		'Two-factor login keeps failing for user {n}, so I have no access to the admin area.',
	],
	shipping: [
		'My parcel for order {n} has not arrived yet; the delivery tracking has not changed for a week.',
		'The courier left a note on {d} but no parcel. Where is my delivery? Tracking number {n}.',
		'Could you update the shipping address for order {n} before the delivery goes out?',
	],
	feedback: [
		'Just wanted to say the new reporting feature is great. A suggestion: let us export to {n} formats.',
		'Praise for your support team on {d}! One feature request: dark mode for the mobile app.',
		'Small suggestion after using it for {n} days: the search could remember my last filters.',
	],
};

const NAMES = ['Anna', 'Ben', 'Chidi', 'Dana', 'Emil', 'Fatima', 'Goran', 'Hana', 'Ivan', 'Julia', 'Kenji', 'Lena'];

export interface Ticket {
	id: number;
	customer: string;
	text: string;
	expected: string;
}

/** `n` tickets, categories in rotation, texts varied by template, customer and numbers. */
export function tickets(n: number): Ticket[] {
	return Array.from({ length: n }, (_, i) => {
		const category = CATEGORIES[i % CATEGORIES.length].name;
		const variants = TEMPLATES[category];
		const template = variants[Math.floor(i / CATEGORIES.length) % variants.length];
		const day = String(1 + (i % 28)).padStart(2, '0');
		const customer = NAMES[i % NAMES.length];
		const text = `${template.replace('{n}', String(10_000 + i)).replace('{d}', `2024-05-${day}`)} Regards, ${customer}`;
		return { id: i + 1, customer, text, expected: category };
	});
}

export interface InvoiceField {
	name: string;
	type: 'string' | 'number' | 'date';
	description: string;
	required: boolean;
}

/** The record both extractors fill (the same five fields, the same descriptions). */
export const INVOICE_FIELDS: InvoiceField[] = [
	{ name: 'invoice_number', type: 'string', description: "The supplier's invoice number", required: true },
	{ name: 'supplier', type: 'string', description: 'The company that sends the invoice', required: true },
	{ name: 'total', type: 'number', description: 'Amount due including tax', required: true },
	{ name: 'currency', type: 'string', description: 'Currency of the total, e.g. EUR', required: false },
	{ name: 'due_date', type: 'date', description: 'When payment is due, YYYY-MM-DD', required: false },
];

const SUPPLIERS = ['ACME Office Supplies Ltd', 'Northwind Traders', 'Quill & Co', 'Blue Harbor Logistics', 'Fernwood Print GmbH'];
const CURRENCIES = ['EUR', 'USD', 'GBP'];

export interface Invoice {
	id: number;
	subject: string;
	text: string;
	expected: { invoice_number: string; supplier: string; total: number; currency: string; due_date: string };
}

export function invoices(n: number): Invoice[] {
	return Array.from({ length: n }, (_, i) => {
		const supplier = SUPPLIERS[i % SUPPLIERS.length];
		const currency = CURRENCIES[i % CURRENCIES.length];
		const total = Math.round((50 + ((i * 7919) % 900_000) / 100) * 100) / 100;
		const number = `INV-2024-${String(i + 1).padStart(5, '0')}`;
		const due = `2024-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`;
		const amount = total.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
		const text =
			`Hello accounts team,\n\nthank you for your order. Please find our invoice attached.\n\n` +
			`Invoice number: ${number}\nSupplier: ${supplier}\nTotal: ${amount} ${currency}\nCurrency: ${currency}\nDue date: ${due}\n\n` +
			`Please pay by bank transfer and quote the invoice number as reference.\n\nKind regards,\n${supplier}`;
		return { id: i + 1, subject: `Invoice ${number}`, text, expected: { invoice_number: number, supplier, total, currency, due_date: due } };
	});
}
