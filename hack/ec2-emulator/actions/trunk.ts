import { invalidValue, missingParameter, unauthorized } from '../protocol/errors.ts';
import { assertWellFormedId, notFoundMany } from '../state/ids.ts';
import type { TrunkAssociation } from '../state/model.ts';
import { associateTrunkInterface, disassociateTrunkInterface } from '../state/ops-trunk.ts';
import type { ActionDefinition } from './context.ts';
import { type FilterSchema, compileFilters, exactValues, readFilters } from './filters.ts';
import { inSeqOrder, readPaging, takePage } from './paging.ts';
import { associationXml } from './shapes.ts';

/** AssociateTrunkInterface, DisassociateTrunkInterface, DescribeTrunkInterfaceAssociations (docs/ec2-semantics.md#trunk-rules). */

export const associateTrunkInterfaceAction: ActionDefinition = {
  name: 'AssociateTrunkInterface',
  idempotent: true,
  params: ['BranchInterfaceId', 'TrunkInterfaceId', 'VlanId', 'GreKey', 'ClientToken'],
  handle({ params, store }) {
    const branchId = params.required('BranchInterfaceId');
    const trunkId = params.required('TrunkInterfaceId');
    assertWellFormedId('eni', branchId);
    assertWellFormedId('eni', trunkId);
    if (params.has('GreKey')) throw invalidValue('GRE associations are not supported; use VlanId.');
    const vlanId = params.int('VlanId');
    if (vlanId === undefined) throw missingParameter('VlanId');
    const association = associateTrunkInterface(store, { branchId, trunkId, vlanId });
    return { interfaceAssociation: associationXml(association), clientToken: params.string('ClientToken') };
  },
};

export const disassociateTrunkInterfaceAction: ActionDefinition = {
  name: 'DisassociateTrunkInterface',
  idempotent: true,
  params: ['AssociationId', 'ClientToken'],
  handle({ params, store }) {
    if (!store.config.trunkingEnabled) throw unauthorized();
    disassociateTrunkInterface(store, params.required('AssociationId'));
    return { return: true, clientToken: params.string('ClientToken') };
  },
};

const schema: FilterSchema<TrunkAssociation> = {
  fields: {
    'trunk-interface-association.trunk-interface-id': (a) => a.trunkId,
    'trunk-interface-association.branch-interface-id': (a) => a.branchId,
    'trunk-interface-association.association-id': (a) => a.id,
    'vlan-id': (a) => a.vlanId,
    'interface-protocol': () => 'VLAN',
    'gre-key': () => undefined,
  },
};

export const describeTrunkInterfaceAssociationsAction: ActionDefinition = {
  name: 'DescribeTrunkInterfaceAssociations',
  params: ['AssociationId', 'Filter', 'MaxResults', 'NextToken'],
  handle({ params, store }) {
    if (!store.config.trunkingEnabled) throw unauthorized();
    const ids = params.list('AssociationId');
    for (const id of ids) assertWellFormedId('association', id);
    const paging = readPaging(params, 'DescribeTrunkInterfaceAssociations', { min: 5, max: 255 }, false);
    const filters = readFilters(params);
    const matches = compileFilters(filters, schema);
    let source: Iterable<TrunkAssociation> = store.associations.values();
    if (ids.length > 0) {
      const missing = ids.filter((id) => {
        const association = store.associations.get(id);
        return !association || !store.isVisible(association);
      });
      if (missing.length > 0) throw notFoundMany('association', missing);
      source = inSeqOrder(new Set(ids), store.associations);
    } else {
      const trunkIds = exactValues(filters, 'trunk-interface-association.trunk-interface-id');
      if (trunkIds) {
        source = inSeqOrder(
          trunkIds.flatMap((id) => [...(store.associationsByTrunk.get(id)?.values() ?? [])]),
          store.associations,
        );
      }
    }
    const { page, nextToken } = takePage(
      source,
      paging,
      'DescribeTrunkInterfaceAssociations',
      (a) => store.isVisible(a) && matches(a),
    );
    return { interfaceAssociationSet: page.map(associationXml), nextToken };
  },
};
