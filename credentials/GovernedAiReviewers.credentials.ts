import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * Who may sign in to a Review Inbox, and how a sign-in is trusted. Passwords are stored as scrypt hashes
 * (`node scripts/hash-reviewer-password.js <name>` prints a line); the session secret signs the inbox's
 * session cookie. A trusted header (set by an SSO proxy such as oauth2-proxy) is honoured only from the
 * listed proxy addresses.
 */
// not an API key: a list of people and a session secret, so no -Api suffix (as n8n's own httpBasicAuth)
// eslint-disable-next-line n8n-nodes-base/cred-class-name-unsuffixed
export class GovernedAiReviewers implements ICredentialType {
	// eslint-disable-next-line n8n-nodes-base/cred-class-field-name-unsuffixed
	name = 'governedAiReviewers';

	// eslint-disable-next-line n8n-nodes-base/cred-class-field-display-name-missing-api
	displayName = 'Governed AI Reviewers';

	documentationUrl = 'https://github.com/n8n-nodes-governed-ai/n8n-nodes-governed-ai#review-inbox';

	icon = { light: 'file:../nodes/ReviewInbox/reviewInbox.svg', dark: 'file:../nodes/ReviewInbox/reviewInbox.dark.svg' } as const;

	properties: INodeProperties[] = [
		{
			displayName: 'Reviewers',
			name: 'reviewers',
			type: 'string',
			typeOptions: { rows: 6, password: true },
			default: '',
			placeholder: 'ada: scrypt:16384:8:1:…',
			description:
				'One reviewer a line: "name: scrypt hash". Make a line with: node scripts/hash-reviewer-password.js NAME (the password is read from the terminal). Lines starting with # are ignored.',
		},
		{
			displayName: 'Groups',
			name: 'groups',
			type: 'string',
			typeOptions: { rows: 4 },
			default: '',
			placeholder: 'finance: ada, grace',
			description: 'One group a line: "group: name, name". A checkpoint names the group that reviews its items; a reviewer sees the items of their groups (and items without a group).',
		},
		{
			displayName: 'Session Secret',
			name: 'sessionSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description: 'Signs the inbox session cookie: a long random string (e.g. openssl rand -hex 32). Changing it signs everyone out.',
		},
		{
			displayName: 'Trusted Header',
			name: 'trustedHeader',
			type: 'string',
			default: 'X-Forwarded-User',
			description: 'Header an SSO proxy in front of n8n sets to the signed-in user (oauth2-proxy: X-Forwarded-User). Honoured only from the proxy addresses below.',
		},
		{
			displayName: 'Trusted Proxy Addresses',
			name: 'trustedProxies',
			type: 'string',
			default: '',
			placeholder: 'e.g. 10.0.0.5, 127.0.0.1',
			description: 'Comma-separated addresses (or IPv4 ranges like 10.0.0.0/24) of the proxies whose header is trusted, as n8n sees the connection. Empty: the header is never trusted.',
		},
	];
}
