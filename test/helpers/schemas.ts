// test/helpers/schemas: the reference schemas of ../shared/schemas (read in place, never copied) as
// validators — Knative's Service CRD (its openAPIV3Schema, plus what an API server would prune) and the
// Compose specification — for the exports of knative/export.ts and compose/compose-export.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { Ajv } from 'ajv';

/** ../shared/schemas beside the repository's root */
export const SHARED_SCHEMAS = path.resolve(import.meta.dirname, '../../../shared/schemas');

export type StructuralSchema = { type?: string; properties?: Record<string, StructuralSchema>; additionalProperties?: boolean | StructuralSchema; items?: StructuralSchema; 'x-kubernetes-preserve-unknown-fields'?: boolean };

/** The v1 openAPIV3Schema of services.serving.knative.dev. */
export function knativeServiceSchema(): StructuralSchema {
  const crd = YAML.parse(readFileSync(path.join(SHARED_SCHEMAS, 'knative-serving-service-crd.yaml'), 'utf8')) as { spec: { versions: Array<{ name: string; schema: { openAPIV3Schema: StructuralSchema } }> } };
  return crd.spec.versions.find((v) => v.name === 'v1')!.schema.openAPIV3Schema;
}

/** ajv for Kubernetes schemas: their x-kubernetes-* keywords and int32/int64 formats are known. */
export function knativeValidator() {
  return new Ajv({ strict: false, allErrors: true, formats: { int32: true, int64: true } }).compile(knativeServiceSchema());
}

/** What an API server would prune from `value` (fields its structural schema does not know), as paths.
 *  The root's metadata is ObjectMeta, which the server checks itself. */
export function prunedFields(value: unknown, schema: StructuralSchema = knativeServiceSchema(), at = ''): string[] {
  if (schema['x-kubernetes-preserve-unknown-fields']) return [];
  if (Array.isArray(value)) return schema.items ? value.flatMap((v, i) => prunedFields(v, schema.items!, `${at}[${i}]`)) : [];
  if (value === null || typeof value !== 'object') return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (at === '' && k === 'metadata') continue;
    const sub = schema.properties?.[k] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
    if (!sub) out.push(`${at}.${k}`);
    else out.push(...prunedFields(v, sub, `${at}.${k}`));
  }
  return out;
}

/** A Knative Service the CRD accepts whole: valid, and nothing pruned. */
export function assertValidKnativeService(manifest: unknown): void {
  const validate = knativeValidator();
  assert.ok(validate(manifest), JSON.stringify(validate.errors, null, 2));
  assert.deepEqual(prunedFields(manifest), [], 'fields the CRD does not know');
}

/** The Compose specification's schema (draft-07) as a validator. */
export function composeValidator() {
  const schema = JSON.parse(readFileSync(path.join(SHARED_SCHEMAS, 'compose-spec.json'), 'utf8')) as Record<string, unknown>;
  delete schema.$schema; // draft-07: ajv's default draft
  return new Ajv({ strict: false, allErrors: true }).compile(schema);
}
