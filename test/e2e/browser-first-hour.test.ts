/**
 * Issue #14 point 1, in the real editor: a new user in a fresh workflow (a Manual Trigger, nothing AI on the
 * canvas, the state in which n8n hides AI nodes that are not "Root Nodes" from its search) opens
 * "What happens next?" and finds every node of the package by its name, by what it does and by "governed";
 * the AI nodes are also in the AI panel.
 */
import type { Locator, Page } from 'playwright-core';
import { startN8n, type N8n } from './harness';
import { DESKTOP, launchBrowser, type GovernedBrowser } from './browser';

jest.setTimeout(10 * 60_000);

const NODES = ['AI Classify', 'AI Extract', 'AI Decide', 'Confidence Gate', 'Human Checkpoint', 'Audit Log'];
const AI_NODES = ['AI Classify', 'AI Extract', 'AI Decide'];
/** What a user types for what they want done → the nodes that must answer it. */
const BY_PURPOSE: Array<[string, string[]]> = [
	['classify', ['AI Classify']],
	['approve', ['Human Checkpoint', 'AI Decide']],
	['audit', ['Audit Log']],
	['confidence', ['Confidence Gate', 'AI Classify']],
	['human', ['Human Checkpoint', 'Confidence Gate']],
	['governed', NODES],
];

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let n8n: N8n;
let browser: GovernedBrowser;
let page: Page;

beforeAll(async () => {
	n8n = await startN8n();
	browser = await launchBrowser();
	page = await browser.signedInPage(n8n, { viewport: DESKTOP });
	await page.goto(`${n8n.baseUrl}/workflow/new`);
	// A fresh workflow starts with "What triggers this workflow?": add a Manual Trigger first, as a user does.
	await page.getByTestId('canvas-add-button').click();
	await searchFor('manual');
	await itemNamed('Trigger manually').click();
	await page.getByText('When clicking ‘Execute workflow’').first().waitFor();
	await closeNodeCreator();
});

afterAll(async () => {
	await browser?.close();
	await n8n?.stop();
});

function creator(): Locator {
	return page.getByTestId('node-creator');
}

function itemNamed(name: string): Locator {
	return creator()
		.getByTestId('node-creator-item-name')
		.filter({ hasText: new RegExp(`^\\s*${escapeRegExp(name)}\\s*$`) })
		.first();
}

async function itemNames(): Promise<string[]> {
	return (await creator().getByTestId('node-creator-item-name').allInnerTexts()).map((t) => t.trim());
}

async function searchFor(query: string): Promise<void> {
	const input = creator().getByTestId('node-creator-search-bar');
	// Empty first and wait for the panel without a search, so no result of the previous query is mistaken for this one's.
	await input.fill('');
	await creator().getByTestId('node-creator-no-results').waitFor({ state: 'detached' });
	await input.fill(query);
}

async function closeNodeCreator(): Promise<void> {
	await page.keyboard.press('Escape');
	await creator().waitFor({ state: 'hidden' });
}

/** The ordinary panel: opened from the canvas's + after a trigger, titled "What happens next?". */
async function openWhatHappensNext(): Promise<void> {
	if (!(await creator().isVisible())) await page.getByTestId('node-creator-plus-button').click();
	await creator().getByText('What happens next?').waitFor();
}

describe('the ordinary "What happens next?" panel', () => {
	beforeAll(openWhatHappensNext);

	test.each(NODES)('finds %s by its name', async (name) => {
		await searchFor(name);
		await itemNamed(name).waitFor();
		expect(await creator().getByText('What happens next?').isVisible()).toBe(true);
	});

	test.each(BY_PURPOSE)('"%s" finds %p', async (query, expected) => {
		await searchFor(query);
		for (const name of expected) await itemNamed(name).waitFor();
		expect(await itemNames()).toEqual(expect.arrayContaining(expected));
		if (query === 'governed') await browser.screenshot(page, 'findability-governed');
	});

	test('a nonsense word finds nothing, so the checks above can fail', async () => {
		await searchFor('qzxwvjk');
		await creator().getByTestId('node-creator-no-results').waitFor();
		expect(await itemNames()).toEqual([]);
	});
});

describe('the AI panel', () => {
	test('lists AI Classify, AI Extract and AI Decide', async () => {
		await openWhatHappensNext();
		await searchFor('');
		// The ordinary panel's "AI" category opens n8n's AI panel ("AI Nodes").
		await itemNamed('AI').click();
		await creator().getByText('AI Nodes', { exact: true }).waitFor();
		for (const name of AI_NODES) await itemNamed(name).waitFor();
		// The panel scrolls inside itself: bring the nodes into the screenshot.
		await itemNamed(AI_NODES[0]).scrollIntoViewIfNeeded();
		await browser.screenshot(page, 'findability-ai-panel');
	});
});
