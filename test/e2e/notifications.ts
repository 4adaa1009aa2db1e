/**
 * A local HTTP endpoint that receives Human Checkpoint's review notifications (the node POSTs
 * {text, reviewUrl, items} to its Notification URL), for the e2e suites that follow a review link.
 */
import * as http from 'node:http';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Notification {
	headers: http.IncomingHttpHeaders;
	body: any;
}

export interface NotificationListener {
	url: string;
	received: Notification[];
	/** The body of the next notification in arrival order (each is handed out once). */
	next(timeoutMs?: number, logs?: () => string): Promise<any>;
	/** The body of the first notification that satisfies `match`, whenever it arrived. */
	find(match: (body: any) => boolean, what: string, timeoutMs?: number): Promise<any>;
	close(): Promise<void>;
}

export async function startNotificationListener(): Promise<NotificationListener> {
	const received: Notification[] = [];
	const server = http.createServer((req, res) => {
		let body = '';
		req.on('data', (c) => (body += c));
		req.on('end', () => {
			received.push({ headers: req.headers, body: JSON.parse(body || 'null') });
			res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	let taken = 0;
	return {
		url: `http://127.0.0.1:${(server.address() as { port: number }).port}/notify`,
		received,
		async next(timeoutMs = 180_000, logs) {
			const deadline = Date.now() + timeoutMs;
			while (Date.now() < deadline) {
				if (received.length > taken) return received[taken++].body;
				await sleep(200);
			}
			throw new Error(`no notification arrived within ${timeoutMs} ms${logs ? `\n${logs().slice(-6000)}` : ''}`);
		},
		async find(match, what, timeoutMs = 180_000) {
			const deadline = Date.now() + timeoutMs;
			while (Date.now() < deadline) {
				const found = received.find((n) => match(n.body));
				if (found) return found.body;
				await sleep(250);
			}
			throw new Error(`no notification for ${what} arrived within ${timeoutMs} ms`);
		},
		close: () => new Promise<void>((resolve) => server.close(() => resolve())),
	};
}
