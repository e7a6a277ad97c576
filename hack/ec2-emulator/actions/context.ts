import { Ec2Fault, invalidValue, missingParameter } from '../protocol/errors.ts';
import type { QueryParams } from '../protocol/query.ts';
import type { XmlObject } from '../protocol/xml.ts';
import type { Tags } from '../state/model.ts';
import type { Store } from '../state/store.ts';

export interface ActionContext {
  params: QueryParams;
  store: Store;
}

/** One EC2 action: its accepted top-level parameters and a handler that returns the response body. */
export interface ActionDefinition {
  name: string;
  /** Top-level parameter names besides Action, Version and DryRun (anything else → UnknownParameter). */
  params: readonly string[];
  /** ClientToken-idempotent actions (docs/ec2-semantics.md#client-tokens): same token + same params → the first response again. */
  idempotent?: boolean;
  handle(context: ActionContext): XmlObject;
}

const MAX_TAGS = 50;

function validateTag(key: string, value: string): void {
  if (key.length === 0 || key.length > 128)
    throw new Ec2Fault('InvalidTagKey.Malformed', `Tag key '${key}' is invalid.`);
  if (key.toLowerCase().startsWith('aws:')) {
    throw new Ec2Fault('InvalidTagKey.Malformed', "Tag keys starting with 'aws:' are reserved for internal use");
  }
  if (value.length > 256) throw invalidValue(`Tag value for key '${key}' exceeds 256 characters.`);
}

/** `Tag.N.Key` / `Tag.N.Value` pairs (CreateTags, TagSpecification). */
export function readTags(params: QueryParams, prefix = 'Tag'): Tags {
  const tags: Tags = new Map();
  for (const entry of params.structs(prefix)) {
    const key = entry.string('Key');
    if (key === undefined) throw missingParameter(`${prefix}.N.Key`);
    const value = entry.string('Value') ?? '';
    validateTag(key, value);
    tags.set(key, value);
  }
  if (tags.size > MAX_TAGS)
    throw new Ec2Fault('TagLimitExceeded', `The maximum number of tags (${MAX_TAGS}) has been exceeded.`);
  return tags;
}

/** Tags of the `TagSpecification.N` entries whose ResourceType matches; other resource types are rejected. */
export function readTagSpecifications(params: QueryParams, resourceType: string): Tags {
  const tags: Tags = new Map();
  for (const spec of params.structs('TagSpecification')) {
    const type = spec.string('ResourceType');
    if (type !== resourceType) {
      throw invalidValue(`'${type ?? ''}' is not a valid taggable resource type for this operation.`);
    }
    for (const [key, value] of readTags(spec)) tags.set(key, value);
  }
  if (tags.size > MAX_TAGS)
    throw new Ec2Fault('TagLimitExceeded', `The maximum number of tags (${MAX_TAGS}) has been exceeded.`);
  return tags;
}

export const assertTagCount = (tags: Tags): void => {
  if (tags.size > MAX_TAGS)
    throw new Ec2Fault('TagLimitExceeded', `The maximum number of tags (${MAX_TAGS}) has been exceeded.`);
};

export { validateTag };
