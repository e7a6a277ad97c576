/**
 * `kubectl sgp`: the verbs, their flags and help, and what each reads before handing the facts to the pure
 * explanations in ./explain. Exit status: 0 when the command answered (whatever the verdict), 1 when it could
 * not (an object missing, the API server or EC2 refusing), 2 for a usage mistake. See docs/kubectl-sgp.md.
 */
import { readFile } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { loadAllYaml } from '@kubernetes/client-node';

import { Kinds } from '../operator/api/kinds.ts';
import type { LeanPod } from '../operator/api/pod.ts';
import { serviceAccountNameOf, toLeanPod } from '../operator/api/pod.ts';
import type { CNINode, SecurityGroupPolicy, TrunkInterface } from '../operator/api/types.ts';
import { instanceTypeOf, type NodeObject } from '../operator/controllers/node/index.ts';
import { keyFor } from '../operator/framework/index.ts';
import type { KubeObject } from '../operator/framework/types.ts';
import {
  branchesOf,
  connect,
  eventsAbout,
  grantsOf,
  namespaceLabels,
  nodeObjects,
  policiesOf,
  Reads,
  readPod,
  tableLimits,
  type Cluster,
} from './cluster.ts';
import { clusterVpcId, connectEc2, readEni, vpcSecurityGroups } from './ec2.ts';
import { CommandError, UsageError } from './errors.ts';
import { explainNode } from './explain/nodes.ts';
import { explainPod } from './explain/pod.ts';
import { previewPolicy } from './explain/preview.ts';
import { INSTALL_NAMESPACE, operatorAnnotationRule } from './operator-settings.ts';
import {
  formatOutput,
  OUTPUT_FORMATS,
  renderNodes,
  renderPod,
  renderPreviews,
  styleFor,
  type OutputFormat,
} from './render.ts';

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  /** For `preview -f -`. */
  stdin?: Readable;
  env: Readonly<Record<string, string | undefined>>;
  /** The wall clock (event ages); injectable for tests. */
  nowMs?: () => number;
}

const OPTIONS = {
  namespace: { type: 'string', short: 'n' },
  context: { type: 'string' },
  kubeconfig: { type: 'string' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
  ec2: { type: 'boolean' },
  region: { type: 'string' },
  filename: { type: 'string', short: 'f' },
  'vpc-id': { type: 'string' },
  'operator-namespace': { type: 'string' },
} as const;

type Flags = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

const CONNECTION_HELP = `Flags for every verb:
  -n, --namespace NS     namespace (default: the context's namespace, else "default")
      --context NAME     kubeconfig context (default: the current context)
      --kubeconfig PATH  kubeconfig file (default: $KUBECONFIG, else ~/.kube/config, else in-cluster)
  -o, --output FORMAT    table (default), json or yaml
  -h, --help             this help`;

const OPERATOR_NAMESPACE_HELP = `  --operator-namespace NS
                     where the operator's Deployment is, for its security-group annotation settings
                     (default: found in any namespace, else ${INSTALL_NAMESPACE} when only that is readable)`;

const HELP: Record<string, string> = {
  '': `kubectl sgp: why pods have (or lack) their security groups, with sgp-operator.

Usage: kubectl sgp <verb> [flags]

Verbs:
  why pod/NAME       every SecurityGroupPolicy of the namespace, matched or not and why; annotation and grant
                     verdicts; the resulting groups; the branch ENI; the node's trunk and capacity; the last
                     events; and the single next thing to fix
  nodes              per node: eligible for a trunk or why not, trunk, branch capacity, used, cooling down
  preview -f FILE    before applying a SecurityGroupPolicy: which running pods it selects and how their
                     groups change (the operator's own matching)

${CONNECTION_HELP}

Run "kubectl sgp <verb> --help" for a verb's flags. More: docs/kubectl-sgp.md.
`,
  why: `kubectl sgp why: explain one pod's security groups.

Usage: kubectl sgp why pod/NAME [-n NS] [--ec2 [--region R]] [-o table|json|yaml]

Shows every SecurityGroupPolicy of the pod's namespace (selected or not, and which label or expression
failed, on the pod or its ServiceAccount), the policies' validity and the SecurityGroupGrants' verdict, the
vpc.amazonaws.com/security-groups annotation's verdict, the groups the operator gives the pod, its branch ENI
(phase, VLAN, IP, subnet), its node's trunk and branch capacity, its last events, and the single next thing
to fix. Decisions come from the operator's own code, so they match what it does.

  --ec2              also read the ENI from EC2 (AWS SDK default credentials; AWS_ENDPOINT_URL_EC2 is
                     honoured) and report groups that differ from what the operator applied
  --region REGION    AWS region for --ec2 (default: AWS_REGION, the AWS config)
${OPERATOR_NAMESPACE_HELP}

${CONNECTION_HELP}
`,
  nodes: `kubectl sgp nodes: branch ENI capacity per node.

Usage: kubectl sgp nodes [-o table|json|yaml]

For every node: whether it may get a trunk ENI (opted in through its CNINode's SecurityGroupsForPods feature
or the legacy label, on an EC2 instance type that supports trunking) and if not why, its TrunkInterface, and
its branch ENIs as the operator counts them: capacity, in use, cooling down (they still hold a VLAN), free,
and pods waiting for one.

${CONNECTION_HELP}
`,
  preview: `kubectl sgp preview: what a SecurityGroupPolicy would do before you apply it.

Usage: kubectl sgp preview -f FILE [-n NS] [--ec2 [--region R] [--vpc-id VPC]] [-o table|json|yaml]

Reads SecurityGroupPolicies from FILE ("-" for stdin; several YAML documents allowed), and for each shows the
running pods of its namespace (metadata.namespace, else -n) it would select, or stop selecting, and their
groups now and after, computed with the operator's own matching against the live policies. Problems the
operator would report (malformed selectors, groups the SecurityGroupGrants refuse, names that do not resolve)
are listed. Nothing is applied.

  -f, --filename FILE  the policies (required)
  --ec2                resolve groupNames and groupSelectors in EC2 now (else: as the live policy of the
                       same name resolved them, or left to the operator)
  --region REGION      AWS region for --ec2
  --vpc-id VPC         the cluster VPC for --ec2 (default: the VPC of a TrunkInterface's subnet)
${OPERATOR_NAMESPACE_HELP}

${CONNECTION_HELP}
`,
};

/** Flags each verb takes besides the connection and output flags. */
const VERB_FLAGS: Record<string, readonly (keyof typeof OPTIONS)[]> = {
  why: ['ec2', 'region', 'operator-namespace'],
  nodes: [],
  preview: ['filename', 'ec2', 'region', 'vpc-id', 'operator-namespace'],
};
const COMMON_FLAGS: readonly (keyof typeof OPTIONS)[] = ['namespace', 'context', 'kubeconfig', 'output', 'help'];

export async function runKubectlSgp(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`error: ${message}\n`);
    if (error instanceof UsageError) {
      io.stderr.write('Run "kubectl sgp --help" for usage.\n');
      return 2;
    }
    return 1;
  }
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed: { values: Flags; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), { cause: error });
  }
  const { values: flags, positionals } = parsed;
  const [verb = '', ...rest] = positionals;
  if (verb === '' || verb === 'help') {
    io.stdout.write(HELP['']);
    return verb === '' && !flags.help ? 2 : 0;
  }
  const allowed = VERB_FLAGS[verb];
  if (!allowed) throw new UsageError(`unknown verb "${verb}"; use why, nodes or preview`);
  if (flags.help) {
    io.stdout.write(HELP[verb] ?? '');
    return 0;
  }
  for (const flag of Object.keys(flags) as (keyof typeof OPTIONS)[]) {
    if (!allowed.includes(flag) && !COMMON_FLAGS.includes(flag)) {
      throw new UsageError(`${verb} takes no --${flag}; see "kubectl sgp ${verb} --help"`);
    }
  }
  const output = (flags.output ?? 'table') as OutputFormat;
  if (!OUTPUT_FORMATS.includes(output)) {
    throw new UsageError(`-o ${flags.output}: use ${OUTPUT_FORMATS.join(', ')}`);
  }
  const connection = {
    ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
    ...(flags.context ? { context: flags.context } : {}),
    ...(flags.namespace ? { namespace: flags.namespace } : {}),
  };
  const style = styleFor(io.stdout);
  const nowMs = io.nowMs ?? Date.now;
  switch (verb) {
    case 'why': {
      if (rest.length !== 1) throw new UsageError('why takes one pod: kubectl sgp why pod/NAME');
      const explanation = await why(connect(connection), podName(rest[0] ?? ''), flags);
      io.stdout.write(formatOutput(explanation, output, () => renderPod(explanation, style, nowMs())));
      return 0;
    }
    case 'nodes': {
      if (rest.length > 0) throw new UsageError('nodes takes no arguments');
      const { items: nodes, notes } = await explainNodes(connect(connection));
      io.stdout.write(
        formatOutput({ kind: 'NodeExplanationList', items: nodes, notes }, output, () =>
          renderNodes(nodes, notes, style),
        ),
      );
      return 0;
    }
    case 'preview': {
      if (rest.length > 0) throw new UsageError('preview takes its policies with -f FILE, not as arguments');
      if (!flags.filename) throw new UsageError('preview needs -f FILE (or -f - for stdin)');
      const policies = parsePolicies(await readPolicyFile(flags.filename, io.stdin), flags.filename);
      const { items: previews, notes } = await preview(connect(connection), policies, flags);
      io.stdout.write(
        formatOutput({ kind: 'PolicyPreviewList', items: previews, notes }, output, () =>
          renderPreviews(previews, notes, style),
        ),
      );
      return 0;
    }
    default:
      throw new UsageError(`unknown verb "${verb}"`);
  }
}

/** `pod/NAME`, `pods/NAME`, `po/NAME` or a bare `NAME`. */
function podName(target: string): string {
  const match = /^(?:(?:pods?|po)\/)?([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(target);
  if (!match?.[1]) throw new UsageError(`"${target}" is not a pod; use pod/NAME`);
  return match[1];
}

async function why(cluster: Cluster, name: string, flags: Flags) {
  const reads = new Reads(cluster.client);
  const namespace = cluster.namespace;
  const pod = await readPod(reads, namespace, name);
  if (!pod) throw new CommandError(`pod "${name}" not found in namespace "${namespace}"`);
  const nodeName = pod.spec?.nodeName;
  const [labels, serviceAccount, policies, grants, branches, node, events, operator] = await Promise.all([
    namespaceLabels(reads, namespace),
    reads.optionalGet<KubeObject>(Kinds.ServiceAccount, keyFor(namespace, serviceAccountNameOf(pod))),
    policiesOf(reads, namespace),
    grantsOf(reads),
    branchesOf(reads),
    nodeName ? nodeObjects(reads, nodeName) : Promise.resolve(undefined),
    eventsAbout(reads, namespace, pod.metadata.uid ?? ''),
    operatorAnnotationRule(reads, flags['operator-namespace']),
  ]);
  const branch = branches.find(
    (candidate) => candidate.metadata.namespace === namespace && candidate.spec.podUid === pod.metadata.uid,
  );
  const ec2 =
    flags.ec2 && branch?.status?.eniId ? await readEni(connectEc2(flags.region), branch.status.eniId) : undefined;
  const explanation = explainPod({
    pod,
    serviceAccount,
    namespaceLabels: labels,
    policies,
    grants,
    branch,
    node: node?.node,
    cniNode: node?.cniNode,
    trunk: node?.trunk,
    limits: tableLimits(node?.node && instanceTypeOf(node.node)),
    nodeBranches: branches.filter((candidate) => nodeName !== undefined && candidate.spec.nodeName === nodeName),
    events,
    annotationRule: operator.rule,
    ...(ec2 ? { ec2 } : {}),
  });
  if (flags.ec2 && !branch?.status?.eniId) explanation.notes.push('--ec2: the pod has no branch ENI to read back');
  if (operator.note && explanation.annotations.length > 0)
    explanation.notes.push(`operator settings: ${operator.note}`);
  explanation.notes.push(...reads.notes);
  return explanation;
}

async function explainNodes(cluster: Cluster) {
  const reads = new Reads(cluster.client);
  const [all, cniNodes, trunks, branches] = await Promise.all([
    cluster.client.list<NodeObject>(Kinds.Node),
    reads.optionalList<CNINode>(Kinds.CNINode),
    reads.optionalList<TrunkInterface>(Kinds.TrunkInterface),
    branchesOf(reads),
  ]);
  const items = all
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))
    .map((node) =>
      explainNode({
        node,
        cniNode: cniNodes.find((candidate) => candidate.metadata.name === node.metadata.name),
        trunk: trunks.find((candidate) => candidate.metadata.name === node.metadata.name),
        limits: tableLimits(instanceTypeOf(node)),
        branches: branches.filter((branch) => branch.spec.nodeName === node.metadata.name),
      }),
    );
  return { items, notes: reads.notes };
}

async function readPolicyFile(filename: string, stdin: Readable | undefined): Promise<string> {
  if (filename !== '-') {
    try {
      return await readFile(filename, 'utf8');
    } catch (error) {
      throw new CommandError(`cannot read ${filename}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (!stdin) throw new UsageError('-f - reads stdin, which is not available here');
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Every document must be a vpcresources.k8s.aws/v1beta1 SecurityGroupPolicy with a name. */
function parsePolicies(text: string, filename: string): SecurityGroupPolicy[] {
  let documents: unknown[];
  try {
    documents = loadAllYaml(text).filter((document) => document !== null && document !== undefined);
  } catch (error) {
    throw new CommandError(
      `${filename} is not YAML or JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (documents.length === 0) throw new CommandError(`${filename} holds no SecurityGroupPolicy`);
  return documents.map((document, index) => {
    const object = document as Partial<SecurityGroupPolicy>;
    if (object.apiVersion !== 'vpcresources.k8s.aws/v1beta1' || object.kind !== 'SecurityGroupPolicy') {
      throw new CommandError(
        `document ${index + 1} of ${filename} is ${object.apiVersion ?? '?'} ${object.kind ?? '?'}; preview takes ` +
          'vpcresources.k8s.aws/v1beta1 SecurityGroupPolicy objects only',
      );
    }
    if (!object.metadata?.name) throw new CommandError(`document ${index + 1} of ${filename} has no metadata.name`);
    return { ...object, spec: object.spec ?? { securityGroups: {} } } as SecurityGroupPolicy;
  });
}

async function preview(cluster: Cluster, policies: readonly SecurityGroupPolicy[], flags: Flags) {
  const reads = new Reads(cluster.client);
  const [grants, operator] = await Promise.all([
    grantsOf(reads),
    operatorAnnotationRule(reads, flags['operator-namespace']),
  ]);
  let vpc: { id: string; groups: Awaited<ReturnType<typeof vpcSecurityGroups>> } | undefined;
  if (flags.ec2) {
    const ec2 = connectEc2(flags.region);
    const id = await clusterVpcId(ec2, flags['vpc-id'], await reads.optionalList<TrunkInterface>(Kinds.TrunkInterface));
    vpc = { id, groups: await vpcSecurityGroups(ec2, id) };
  }
  const previews = [];
  for (const policy of policies) {
    const namespace = policy.metadata.namespace || cluster.namespace;
    const [live, pods, serviceAccounts, labels] = await Promise.all([
      policiesOf(reads, namespace),
      cluster.client.list<LeanPod & KubeObject>(Kinds.Pod, { namespace }),
      reads.optionalList<KubeObject>(Kinds.ServiceAccount, { namespace }),
      namespaceLabels(reads, namespace),
    ]);
    previews.push(
      previewPolicy({
        proposed: { ...policy, metadata: { ...policy.metadata, namespace } },
        live,
        pods: pods.map(toLeanPod),
        serviceAccounts: new Map(serviceAccounts.map((account) => [account.metadata.name, account])),
        namespaceLabels: labels,
        grants,
        annotationRule: operator.rule,
        ...(vpc ? { vpc } : {}),
      }),
    );
  }
  return { items: previews, notes: reads.notes };
}
