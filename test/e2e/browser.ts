/**
 * A real browser against the real n8n of the e2e harness: Debian's `chromium` driven by playwright-core.
 * Playwright never downloads a browser here; the suites use the system one, the way a user's machine has one.
 *
 *   const browser = await launchBrowser();
 *   const page = await browser.signedInPage(n8n, { viewport: { width: 1440, height: 900 } });
 *   await page.goto(`${n8n.baseUrl}/workflow/new`);
 *   await browser.screenshot(page, 'new-workflow');
 *   await browser.close();
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, selectors, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { DEFAULT_OWNER, RUN_ROOT, type N8n } from './harness';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Where screenshots go (ignored by git with the rest of test/e2e/.run); N8N_E2E_SCREENSHOTS overrides it. */
export const SCREENSHOT_DIR = process.env.N8N_E2E_SCREENSHOTS ?? path.join(RUN_ROOT, 'screenshots');
export const DESKTOP = { width: 1440, height: 900 };
export const PHONE = { width: 390, height: 844 };
/** Generous: a busy 2-core machine renders n8n's editor slowly; waits end as soon as the element is there. */
export const UI_TIMEOUT = 60_000;

const ARGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
];

export interface PageOptions {
	viewport?: { width: number; height: number };
	/** phone emulation (touch, mobile meta viewport); default: on for widths under 600 px */
	mobile?: boolean;
}

export interface GovernedBrowser {
	browser: Browser;
	/** a fresh context (own cookies) and page at the viewport; not signed in */
	page(options?: PageOptions): Promise<Page>;
	/** a fresh context signed in to n8n through its sign-in page, as `owner` (default: the harness's owner) */
	signedInPage(n8n: N8n, options?: PageOptions & { owner?: { email: string; password: string } }): Promise<Page>;
	/** a full-page PNG in SCREENSHOT_DIR (or `dir`); returns its path */
	screenshot(page: Page, name: string, dir?: string): Promise<string>;
	/** closes every context and the browser, idempotent */
	close(): Promise<void>;
}

let testIdRegistered = false;

export async function launchBrowser(): Promise<GovernedBrowser> {
	if (!fs.existsSync(CHROMIUM)) {
		throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run installs it)`);
	}
	// n8n's editor marks its elements with data-test-id, not Playwright's default data-testid.
	if (!testIdRegistered) {
		selectors.setTestIdAttribute('data-test-id');
		testIdRegistered = true;
	}
	const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: UI_TIMEOUT });
	const contexts: BrowserContext[] = [];
	let closed: Promise<void> | undefined;

	const page = async (options: PageOptions = {}): Promise<Page> => {
		const viewport = options.viewport ?? DESKTOP;
		const mobile = options.mobile ?? viewport.width < 600;
		const context = await browser.newContext({
			viewport,
			isMobile: mobile,
			hasTouch: mobile,
			deviceScaleFactor: 1,
			locale: 'en-US',
			timezoneId: 'UTC',
		});
		context.setDefaultTimeout(UI_TIMEOUT);
		context.setDefaultNavigationTimeout(UI_TIMEOUT);
		contexts.push(context);
		return await context.newPage();
	};

	const signedInPage: GovernedBrowser['signedInPage'] = async (n8n, options = {}) => {
		const p = await page(options);
		await signIn(p, n8n.baseUrl, options.owner ?? DEFAULT_OWNER);
		return p;
	};

	const screenshot = async (p: Page, name: string, dir = SCREENSHOT_DIR): Promise<string> => {
		fs.mkdirSync(dir, { recursive: true });
		const file = path.join(dir, `${name.replace(/[^a-z0-9._-]+/gi, '-')}.png`);
		await p.screenshot({ path: file, fullPage: true });
		return file;
	};

	const close = () =>
		(closed ??= (async () => {
			for (const context of contexts) await context.close().catch(() => undefined);
			await browser.close().catch(() => undefined);
		})());

	return { browser, page, signedInPage, screenshot, close };
}

/** Signs in through the editor's own sign-in page, so the session cookie and browser id are the editor's. */
export async function signIn(page: Page, baseUrl: string, owner: { email: string; password: string }): Promise<void> {
	await page.goto(`${baseUrl}/signin`);
	const form = page.getByTestId('signin-form');
	await form.locator('input[type="email"], input[name="emailOrLdapLoginId"], input[name="email"]').first().fill(owner.email);
	await form.locator('input[type="password"]').first().fill(owner.password);
	await page.getByTestId('form-submit-button').click();
	// Signed in once the editor has left the sign-in page.
	await page.waitForURL((url) => !url.pathname.startsWith('/signin'), { timeout: UI_TIMEOUT });
}
