import { isIP } from 'node:net';
import Ajv2020 from 'ajv/dist/2020';
import schema from './ocsf-1.7.0.schema.json';

/**
 * Validates records against the OCSF 1.7.0 schema the repository carries as
 * data (ocsf-1.7.0.schema.json, written by hand from OCSF's definitions: no
 * network at test time), plus what JSON Schema cannot say here: every IP is one.
 */
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, strictTypes: false });
const validate = ajv.compile(schema);

/** The problems of one record, empty when it is valid OCSF 1.7.0. */
export function ocsfProblems(record: unknown): string[] {
  const problems: string[] = [];
  if (!validate(record)) {
    problems.push(...(validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message}`));
  }
  for (const ip of ipsOf(record)) if (isIP(ip) === 0) problems.push(`${ip} is not an IP address`);
  return problems;
}

function ipsOf(record: unknown): string[] {
  if (typeof record !== 'object' || record === null) return [];
  return Object.entries(record).flatMap(([key, value]) =>
    key === 'ip' && typeof value === 'string' ? [value] : ipsOf(value),
  );
}
