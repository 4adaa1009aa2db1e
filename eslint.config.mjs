// The field's rules: eslint-plugin-n8n-nodes-base (the rule set n8n's own `n8n-node lint` builds on),
// applied to nodes, credentials and the package.json, plus typescript-eslint's recommended rules.
import n8nNodesBase from 'eslint-plugin-n8n-nodes-base';
import tseslint from 'typescript-eslint';

export default tseslint.config(
	{ ignores: ['dist/**', 'node_modules/**', 'test/**', 'bench/**', 'scripts/**', '*.js', '*.mjs'] },
	...tseslint.configs.recommended,
	{
		files: ['package.json'],
		languageOptions: { parser: (await import('jsonc-eslint-parser')).default },
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: {
			...n8nNodesBase.configs.community.rules,
			// runtime dependencies (the provider SDKs, pg) are the point of this package: it targets self-hosted n8n
			'n8n-nodes-base/community-package-json-name-still-default': 'off',
		},
	},
	{
		files: ['credentials/**/*.ts'],
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: {
			...n8nNodesBase.configs.credentials.rules,
			// documentation links point at the providers' own docs pages, not at n8n's
			'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off',
		},
	},
	{
		files: ['nodes/**/*.ts'],
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: {
			...n8nNodesBase.configs.nodes.rules,
			// these two predate NodeConnectionTypes, which n8n now exports and asks nodes to use
			'n8n-nodes-base/node-class-description-inputs-wrong-regular-node': 'off',
			'n8n-nodes-base/node-class-description-outputs-wrong': 'off',
			// the nodes reuse n8n's built-in credential types (httpBasicAuth, httpHeaderAuth), which have no -Api suffix
			'n8n-nodes-base/node-class-description-credentials-name-unsuffixed': 'off',
		},
	},
	{
		// a node's description has a file of its own next to the node (as n8n's versionDescription.ts); the rule
		// expects it in <Name>.node.ts, and the node class's other rules still check it here
		files: ['nodes/*/description.ts'],
		rules: { 'n8n-nodes-base/node-filename-against-convention': 'off' },
	},
	{
		rules: {
			'@typescript-eslint/no-explicit-any': 'error',
			'@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
		},
	},
);
