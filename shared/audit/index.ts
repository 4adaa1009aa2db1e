/** The audit core used by the Audit Log node: records, the chain, the sinks and the report. */
import { ChainVerifier, type VerifyResult } from './chain';
import { ReportBuilder, type AuditReport } from './report';
import type { AuditSink, TimeWindow } from './sink';

export * from './chain';
export * from './fileSink';
export * from './httpSink';
export * from './pgSink';
export * from './record';
export * from './report';
export * from './reportHtml';
export * from './sink';

/** Verifies a stream page by page, as stored. */
export async function verifyStream(sink: AuditSink, stream: string): Promise<VerifyResult> {
	const verifier = new ChainVerifier();
	for await (const page of sink.read(stream)) verifier.pushAll(page);
	return verifier.result();
}

export async function reportStream(
	sink: AuditSink,
	stream: string,
	window: TimeWindow = {},
	now?: Date,
): Promise<AuditReport> {
	const builder = new ReportBuilder(stream, window);
	for await (const page of sink.read(stream, window)) {
		for (const record of page) builder.push(record);
	}
	return builder.result(now);
}
