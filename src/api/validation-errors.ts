// api/validation-errors: what a request that fails its JSON schema is told. Fastify's own message
// ("body/scaling must NOT have additional properties", "body/name must match pattern \"^[a-z…\"")
// shows internals and hides the field; this names the field as the user wrote it (`scaling.maxx`,
// `name`, query `tail`) and says what it must be, in words.
import type { FastifySchemaValidationError } from 'fastify/types/schema.js';
import { SkiffError } from '../core/errors.ts';
import { SERVICE_NAME_RE } from '../core/names.ts';

/** Words for the patterns the schemas use, keyed by the pattern's source. */
const PATTERN_WORDS: Record<string, string> = {
  [SERVICE_NAME_RE.source]: 'a DNS label: lowercase letters, digits and "-", starting with a letter, not ending with "-", at most 63',
  '^[A-Za-z_][A-Za-z0-9_]*$': 'a variable name: letters, digits and "_", not starting with a digit',
  '^[a-z0-9][a-z0-9-]{0,62}$': 'lowercase letters, digits and "-", at most 63',
  '^/': 'a path starting with "/"',
};

function fieldOf(e: FastifySchemaValidationError, dataVar: string, extra?: string): string {
  const parts = (e.instancePath ?? '').split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  const field = parts.join('.') || (dataVar === 'body' ? 'the body' : dataVar);
  return dataVar === 'querystring' ? `query parameter ${field}` : dataVar === 'params' ? `path parameter ${field}` : field;
}

function describe(e: FastifySchemaValidationError, dataVar: string): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return `${fieldOf(e, dataVar, String(p.additionalProperty))}: unknown field`;
    case 'required':
      return `${fieldOf(e, dataVar, String(p.missingProperty))}: required`;
    case 'pattern': {
      const words = PATTERN_WORDS[String(p.pattern)] ?? `in the form ${String(p.pattern)}`;
      // a key failing propertyNames (ajv names it on the error): say which key
      const key = (e as { propertyName?: string }).propertyName;
      return key !== undefined ? `${fieldOf(e, dataVar)}: key ${JSON.stringify(key)} must be ${words}` : `${fieldOf(e, dataVar)}: must be ${words}`;
    }
    case 'propertyNames':
      return `${fieldOf(e, dataVar)}: ${JSON.stringify(p.propertyName)} is not a valid key`;
    case 'enum':
      return `${fieldOf(e, dataVar)}: must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'type':
      return `${fieldOf(e, dataVar)}: must be ${(Array.isArray(p.type) ? p.type : String(p.type).split(',')).join(' or ')}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${fieldOf(e, dataVar)}: must be ${String(p.comparison)} ${String(p.limit)}`;
    case 'minProperties':
      return `${fieldOf(e, dataVar)}: give at least one field`;
    case 'maxProperties':
      return `${fieldOf(e, dataVar)}: at most ${String(p.limit)} entries`;
    case 'minLength':
      return `${fieldOf(e, dataVar)}: must not be empty`;
    case 'maxLength':
      return `${fieldOf(e, dataVar)}: must be at most ${String(p.limit)} characters`;
    default:
      return `${fieldOf(e, dataVar)}: ${e.message ?? 'is not valid'}`;
  }
}

/** Fastify's schemaErrorFormatter: the first error (fastify validates with allErrors off), as BAD_REQUEST. */
export function schemaErrorFormatter(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const first = errors[0];
  return new SkiffError('BAD_REQUEST', first ? describe(first, dataVar) : `${dataVar} is not valid`);
}
