/**
 * charts/sgp-operator as a user installs it: `helm lint`, and `helm template` with the value sets people use
 * (defaults, cert-manager, IRSA, no PDB, a ServiceMonitor over HTTPS or plain HTTP, alerts and the dashboard,
 * custom flags and names), each checked for what the
 * values promise and then applied to the real kube-apiserver with `kubectl apply --dry-run=server
 * --validate=strict` (every field known to its schema, every object admissible). The Prometheus Operator and
 * cert-manager kinds come from stand-in CRDs (test/fixtures/crds/README.md), installed only where absent.
 * Helm comes from the tool cache (hack/helm/build.sh); without it the tests skip with one line.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ApiException, ApiextensionsV1Api, type V1Container } from '@kubernetes/client-node';

import { installCrds, loadCrds } from '../../../hack/control-plane/crds.ts';
import { parseOptions } from '../../../operator/options/options.ts';
import { operatorExcluded } from '../../../operator/webhook/index.ts';
import { kubeConfig, testNamespace } from '../harness/index.ts';
import { CHART, REPO, dryRunApply, helm, helmTemplate, helmTemplateText, type Manifest } from './render.ts';

const run = promisify(execFile);
const CLUSTER = { clusterName: 'my-cluster', region: 'eu-west-1', vpcId: 'vpc-0123456789abcdef0' };

let installedStandIns: string[] = [];

function one(objects: Manifest[], kind: string): Manifest {
  const found = objects.filter((object) => object.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0] as Manifest;
}

function container(objects: Manifest[]): V1Container {
  const deployment = one(objects, 'Deployment') as Manifest & {
    spec: { template: { spec: { containers: V1Container[] } } };
  };
  return deployment.spec.template.spec.containers[0] as V1Container;
}

/** The options the operator would run with: its own parser over the container's args and the pod namespace. */
function effectiveOptions(objects: Manifest[], namespace: string) {
  const result = parseOptions(container(objects).args ?? [], { POD_NAMESPACE: namespace });
  if (result.kind !== 'options') throw new Error(`unexpected ${result.kind}`);
  return result.options;
}

type Service = Manifest & { spec: { ports: unknown[] } };

/** The Services a ServiceMonitor's selector picks. */
function metricsServices(objects: Manifest[], matchLabels: Record<string, string>): Service[] {
  return objects.filter(
    (object): object is Service =>
      object.kind === 'Service' &&
      Object.entries(matchLabels).every(([key, value]) => object.metadata.labels?.[key] === value),
  );
}

function vpodExemption(objects: Manifest[]): string | undefined {
  const configuration = one(objects, 'ValidatingWebhookConfiguration') as Manifest & {
    webhooks: Array<{ name: string; matchConditions?: Array<{ name: string; expression: string }> }>;
  };
  return configuration.webhooks
    .find((webhook) => webhook.name === 'vpod.trunking.sgp-operator.io')
    ?.matchConditions?.find((condition) => condition.name === 'not-the-operator')?.expression;
}

(helm ? describe : describe.skip)('charts/sgp-operator', () => {
  beforeAll(async () => {
    // Stand-ins only where the kinds do not exist: a real cluster keeps its own CRDs.
    const api = kubeConfig().makeApiClient(ApiextensionsV1Api);
    const standIns = await loadCrds(join(REPO, 'test/fixtures/crds'));
    const absent = [];
    for (const crd of standIns) {
      try {
        await api.readCustomResourceDefinition({ name: crd.metadata?.name ?? '' });
      } catch (error) {
        if (!(error instanceof ApiException && error.code === 404)) throw error;
        absent.push(crd);
      }
    }
    installedStandIns = await installCrds(process.env.KUBECONFIG ?? '', absent);
  }, 60_000);

  afterAll(async () => {
    const api = kubeConfig().makeApiClient(ApiextensionsV1Api);
    await Promise.all(installedStandIns.map((name) => api.deleteCustomResourceDefinition({ name })));
  });

  test('helm lint --strict passes with the cluster settings', async () => {
    const sets = Object.entries(CLUSTER).flatMap(([key, value]) => ['--set', `${key}=${value}`]);
    const { stdout } = await run(helm ?? '', ['lint', '--strict', CHART, ...sets]);
    expect(stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
  });

  test('defaults: the operator, its RBAC, webhooks, admission policy, PDB and NetworkPolicy pass the apiserver', async () => {
    const namespace = await testNamespace('chart-defaults');
    const text = await helmTemplateText({ namespace, values: CLUSTER });
    const objects = await helmTemplate({ namespace, values: CLUSTER });

    expect(await dryRunApply(text)).toEqual(
      [
        ...[
          'branchinterfaces.trunking.sgp-operator.io',
          'cninodes.vpcresources.k8s.aws',
          'eniconfigs.crd.k8s.amazonaws.com',
          'securitygroupgrants.trunking.sgp-operator.io',
          'securitygrouppolicies.vpcresources.k8s.aws',
          'trunkinterfaces.trunking.sgp-operator.io',
          'warmbranches.trunking.sgp-operator.io',
        ].map((name) => `customresourcedefinition.apiextensions.k8s.io/${name}`),
        'clusterrole.rbac.authorization.k8s.io/sgp-operator-kubectl-sgp-viewer',
        'clusterrole.rbac.authorization.k8s.io/sgp-operator-manager-role',
        'clusterrole.rbac.authorization.k8s.io/sgp-operator-metrics-auth-role',
        'clusterrole.rbac.authorization.k8s.io/sgp-operator-metrics-reader',
        'clusterrole.rbac.authorization.k8s.io/sgp-operator-securitygroupgrant-admin-role',
        'clusterrole.rbac.authorization.k8s.io/sgp-operator-securitygroupgrant-viewer-role',
        'clusterrole.rbac.authorization.k8s.io/sgp-operator-securitygrouppolicy-editor-role',
        'clusterrole.rbac.authorization.k8s.io/sgp-operator-securitygrouppolicy-viewer-role',
        'clusterrolebinding.rbac.authorization.k8s.io/sgp-operator-manager-rolebinding',
        'clusterrolebinding.rbac.authorization.k8s.io/sgp-operator-metrics-auth-rolebinding',
        'deployment.apps/sgp-operator-controller-manager',
        'mutatingwebhookconfiguration.admissionregistration.k8s.io/sgp-operator-mutating-webhook',
        'networkpolicy.networking.k8s.io/sgp-operator-controller-manager',
        'poddisruptionbudget.policy/sgp-operator-controller-manager',
        'role.rbac.authorization.k8s.io/sgp-operator-kubectl-sgp-viewer',
        'role.rbac.authorization.k8s.io/sgp-operator-leader-election-role',
        'role.rbac.authorization.k8s.io/sgp-operator-vpc-cni-config-reader',
        'rolebinding.rbac.authorization.k8s.io/sgp-operator-leader-election-rolebinding',
        'rolebinding.rbac.authorization.k8s.io/sgp-operator-vpc-cni-config-reader',
        'service/sgp-operator-webhook',
        'serviceaccount/sgp-operator-controller-manager',
        'validatingadmissionpolicy.admissionregistration.k8s.io/sgp-operator-namespace-label-guard',
        'validatingadmissionpolicybinding.admissionregistration.k8s.io/sgp-operator-namespace-label-guard',
        'validatingwebhookconfiguration.admissionregistration.k8s.io/sgp-operator-validating-webhook',
      ].sort(),
    );
    const options = effectiveOptions(objects, namespace);
    expect(options).toMatchObject({
      clusterName: 'my-cluster',
      region: 'eu-west-1',
      vpcId: 'vpc-0123456789abcdef0',
      leaderElect: true,
      leaderElectionNamespace: namespace,
      webhookServiceName: 'sgp-operator-webhook',
      webhookServiceNamespace: namespace,
      webhookCertDir: undefined,
      metricsSecure: true,
      metricsBindAddress: { host: '', port: 8443 },
    });
    expect(vpodExemption(objects)).toBe(
      operatorExcluded(`system:serviceaccount:${namespace}:sgp-operator-controller-manager`),
    );
    expect(container(objects).image).toBe('ghcr.io/sgp-operator/sgp-operator:0.1.0');
  });

  test('cert-manager mode: a self-signed Issuer, the Certificate for the webhook Service, CA injection and the mounted Secret', async () => {
    const namespace = await testNamespace('chart-cert-manager');
    const values = { ...CLUSTER, 'webhookCertificate.mode': 'cert-manager' };
    const objects = await helmTemplate({ namespace, values });

    const certificate = one(objects, 'Certificate') as Manifest & {
      spec: { dnsNames: string[]; issuerRef: unknown; secretName: string };
    };
    expect(certificate.spec.dnsNames).toEqual([
      `sgp-operator-webhook.${namespace}.svc`,
      `sgp-operator-webhook.${namespace}.svc.cluster.local`,
    ]);
    expect(certificate.spec.issuerRef).toEqual({ kind: 'Issuer', name: one(objects, 'Issuer').metadata.name });
    for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
      expect(one(objects, kind).metadata.annotations).toEqual({
        'cert-manager.io/inject-ca-from': `${namespace}/${certificate.metadata.name}`,
      });
    }
    const certDir = effectiveOptions(objects, namespace).webhookCertDir;
    expect(container(objects).volumeMounts).toContainEqual({
      name: 'webhook-certs',
      mountPath: certDir,
      readOnly: true,
    });
    const deployment = one(objects, 'Deployment') as Manifest & {
      spec: { template: { spec: { volumes: unknown[] } } };
    };
    expect(deployment.spec.template.spec.volumes).toContainEqual({
      name: 'webhook-certs',
      secret: { secretName: certificate.spec.secretName },
    });

    const applied = await dryRunApply(await helmTemplateText({ namespace, values }));
    expect(applied).toContain(`certificate.cert-manager.io/${certificate.metadata.name}`);
    expect(applied).toContain(`issuer.cert-manager.io/${one(objects, 'Issuer').metadata.name}`);
  });

  test('cert-manager mode with an existing ClusterIssuer creates no Issuer', async () => {
    const namespace = await testNamespace('chart-cluster-issuer');
    const issuerRef = { kind: 'ClusterIssuer', name: 'corporate-ca', group: 'cert-manager.io' };
    const values = {
      ...CLUSTER,
      'webhookCertificate.mode': 'cert-manager',
      'webhookCertificate.certManager.issuerRef': issuerRef,
      'webhookCertificate.certManager.duration': '2160h',
    };
    const objects = await helmTemplate({ namespace, values });

    expect(objects.filter((object) => object.kind === 'Issuer')).toEqual([]);
    expect(one(objects, 'Certificate')).toMatchObject({ spec: { issuerRef, duration: '2160h' } });
    expect(await dryRunApply(await helmTemplateText({ namespace, values }))).toContain(
      'certificate.cert-manager.io/sgp-operator-serving-cert',
    );
  });

  test('IRSA: the role annotation reaches the ServiceAccount the pods run as', async () => {
    const namespace = await testNamespace('chart-irsa');
    const roleArn = 'arn:aws:iam::111122223333:role/sgp-operator';
    const values = { ...CLUSTER, 'serviceAccount.annotations': { 'eks.amazonaws.com/role-arn': roleArn } };
    const objects = await helmTemplate({ namespace, values });

    const serviceAccount = one(objects, 'ServiceAccount');
    expect(serviceAccount.metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': roleArn });
    expect(
      (one(objects, 'Deployment') as Manifest & { spec: { template: { spec: { serviceAccountName: string } } } }).spec
        .template.spec.serviceAccountName,
    ).toBe(serviceAccount.metadata.name);
    expect(await dryRunApply(await helmTemplateText({ namespace, values }))).toContain(
      `serviceaccount/${serviceAccount.metadata.name}`,
    );
  });

  test('podDisruptionBudget.enabled=false leaves the PDB out; networkPolicy narrows metrics and HTTPS, adds egress', async () => {
    const namespace = await testNamespace('chart-no-pdb');
    const metricsFrom = [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }];
    const values = {
      ...CLUSTER,
      'podDisruptionBudget.enabled': false,
      'networkPolicy.metricsFrom': metricsFrom,
      'networkPolicy.httpsCidrs': ['10.0.0.0/16'],
      'networkPolicy.podIdentityAgent': false,
      'networkPolicy.extraEgress': [{ ports: [{ port: 4318, protocol: 'TCP' }] }],
    };
    const objects = await helmTemplate({ namespace, values });

    expect(objects.filter((object) => object.kind === 'PodDisruptionBudget')).toEqual([]);
    const policy = one(objects, 'NetworkPolicy') as Manifest & {
      spec: { ingress: Array<{ from?: unknown }>; egress: Array<{ to?: unknown; ports: unknown[] }> };
    };
    expect(policy.spec.ingress[1]?.from).toEqual(metricsFrom);
    expect(policy.spec.egress[0]?.to).toEqual([{ ipBlock: { cidr: '10.0.0.0/16' } }]);
    expect(policy.spec.egress).toHaveLength(3);
    expect(policy.spec.egress[2]).toEqual({ ports: [{ port: 4318, protocol: 'TCP' }] });
    const applied = await dryRunApply(await helmTemplateText({ namespace, values }));
    expect(applied.some((line) => line.startsWith('poddisruptionbudget'))).toBe(false);
    expect(applied).toContain('networkpolicy.networking.k8s.io/sgp-operator-controller-manager');
  });

  test("serviceMonitor.enabled: an HTTPS metrics Service and a ServiceMonitor with Prometheus' token, the extra labels, selecting it", async () => {
    const namespace = await testNamespace('chart-monitor');
    const values = {
      ...CLUSTER,
      'serviceMonitor.enabled': true,
      'serviceMonitor.additionalLabels': { release: 'kps' },
      'metricsReader.subjects': [{ kind: 'ServiceAccount', name: 'prometheus', namespace: 'monitoring' }],
    };
    const objects = await helmTemplate({ namespace, values });

    const monitor = one(objects, 'ServiceMonitor') as Manifest & {
      spec: { selector: { matchLabels: Record<string, string> }; endpoints: Array<Record<string, unknown>> };
    };
    expect(monitor.metadata.labels).toMatchObject({ release: 'kps' });
    expect(monitor.spec.endpoints).toEqual([
      {
        port: 'https',
        scheme: 'https',
        path: '/metrics',
        interval: '30s',
        bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
        tlsConfig: { insecureSkipVerify: true },
      },
    ]);
    const scraped = metricsServices(objects, monitor.spec.selector.matchLabels);
    expect(scraped.map((service) => [service.metadata.name, service.spec.ports])).toEqual([
      ['sgp-operator-metrics', [{ name: 'https', port: 8443, protocol: 'TCP', targetPort: 'metrics' }]],
    ]);
    expect(container(objects).ports).toContainEqual({ name: 'metrics', containerPort: 8443, protocol: 'TCP' });
    // The operator may ask who a token is and what it may do; the listed Prometheus may read /metrics.
    const readerBinding = objects.find(
      (object) => object.kind === 'ClusterRoleBinding' && object.metadata.name === 'sgp-operator-metrics-reader',
    );
    expect(readerBinding).toMatchObject({
      roleRef: { kind: 'ClusterRole', name: 'sgp-operator-metrics-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace: 'monitoring' }],
    });
    const applied = await dryRunApply(await helmTemplateText({ namespace, values }));
    expect(applied).toEqual(
      expect.arrayContaining([
        'servicemonitor.monitoring.coreos.com/sgp-operator-metrics',
        'service/sgp-operator-metrics',
        'clusterrole.rbac.authorization.k8s.io/sgp-operator-metrics-auth-role',
        'clusterrolebinding.rbac.authorization.k8s.io/sgp-operator-metrics-auth-rolebinding',
        'clusterrolebinding.rbac.authorization.k8s.io/sgp-operator-metrics-reader',
      ]),
    );
  });

  test('flags.metrics-secure=false: plain HTTP on the operator, the Service and the ServiceMonitor; no token review RBAC', async () => {
    const namespace = await testNamespace('chart-monitor-http');
    const values = {
      ...CLUSTER,
      'serviceMonitor.enabled': true,
      'flags.metrics-secure': false,
      'flags.metrics-bind-address': ':8080',
    };
    const objects = await helmTemplate({ namespace, values });

    expect(effectiveOptions(objects, namespace)).toMatchObject({
      metricsSecure: false,
      metricsBindAddress: { host: '', port: 8080 },
    });
    const monitor = one(objects, 'ServiceMonitor') as Manifest & {
      spec: { selector: { matchLabels: Record<string, string> }; endpoints: Array<Record<string, unknown>> };
    };
    expect(monitor.spec.endpoints).toEqual([{ port: 'http', scheme: 'http', path: '/metrics', interval: '30s' }]);
    expect(metricsServices(objects, monitor.spec.selector.matchLabels).map((service) => service.spec.ports)).toEqual([
      [{ name: 'http', port: 8080, protocol: 'TCP', targetPort: 'metrics' }],
    ]);
    expect(objects.filter((object) => object.metadata.name?.includes('metrics-auth'))).toEqual([]);
    const applied = await dryRunApply(await helmTemplateText({ namespace, values }));
    expect(applied).toContain('servicemonitor.monitoring.coreos.com/sgp-operator-metrics');
    expect(applied.filter((line) => line.includes('metrics-auth'))).toEqual([]);
    // --set-string gives the flag as text; the chart reads it the way the operator does.
    await expect(helmTemplateText({ namespace, values: { ...CLUSTER, 'flags.metrics-secure': 'no' } })).rejects.toThrow(
      /flags.metrics-secure="no": use true or false/,
    );
  });

  test('prometheusRule and grafanaDashboard: the alerts with runbook links and the dashboard ConfigMap pass the apiserver', async () => {
    const namespace = await testNamespace('chart-alerts');
    const grafanaNamespace = await testNamespace('chart-grafana');
    const runbookUrl = 'https://git.example.com/platform/sgp-operator/blob/v0.1.0/docs/alerts.md';
    const values = {
      ...CLUSTER,
      'prometheusRule.enabled': true,
      'prometheusRule.runbookUrl': runbookUrl,
      'prometheusRule.additionalLabels': { release: 'kps' },
      'grafanaDashboard.enabled': true,
      'grafanaDashboard.namespace': grafanaNamespace,
      'grafanaDashboard.annotations': { grafana_folder: 'Networking' },
    };
    const objects = await helmTemplate({ namespace, values });

    const rule = one(objects, 'PrometheusRule') as Manifest & {
      spec: { groups: Array<{ rules: Array<{ alert?: string; annotations?: Record<string, string> }> }> };
    };
    expect(rule.metadata.labels).toMatchObject({ release: 'kps' });
    const alerts = rule.spec.groups.flatMap((group) => group.rules).filter((alert) => alert.alert);
    expect(alerts.length).toBeGreaterThan(0);
    for (const alert of alerts) {
      expect(alert.annotations?.runbook_url).toBe(`${runbookUrl}#${alert.alert?.toLowerCase()}`);
    }
    // Prometheus templates in the descriptions reach Prometheus untouched by Helm.
    expect(JSON.stringify(rule.spec)).toContain('{{ $labels.namespace }}');

    const dashboard = one(objects, 'ConfigMap') as Manifest & { data: Record<string, string> };
    expect(dashboard.metadata).toMatchObject({
      namespace: grafanaNamespace,
      labels: { grafana_dashboard: '1' },
      annotations: { grafana_folder: 'Networking' },
    });
    expect(dashboard.data['sgp-operator-dashboard.json']).toBe(
      await readFile(join(REPO, 'config/grafana/sgp-operator-dashboard.json'), 'utf8'),
    );

    const applied = await dryRunApply(await helmTemplateText({ namespace, values }));
    expect(applied).toEqual(
      expect.arrayContaining([
        'prometheusrule.monitoring.coreos.com/sgp-operator-alerts',
        'configmap/sgp-operator-grafana-dashboard',
      ]),
    );
  });

  test('custom flags, release name and ServiceAccount reach the args, the Lease RBAC, ports and CEL identities', async () => {
    const namespace = await testNamespace('chart-custom');
    const values = {
      ...CLUSTER,
      'serviceAccount.name': 'sgp',
      'flags.log-level': 'debug',
      'flags.pod-workers': 50,
      'flags.ec2-create-network-interface-qps': 2.5,
      'flags.branch-cooldown-seconds': 86400,
      'flags.leader-election-id': 'sgp-netsec',
      'flags.metrics-bind-address': ':9090',
      'flags.enable-security-group-annotations': true,
      'flags.security-group-annotation-allow-list': 'sg-0123456789abcdef0,sg-0fedcba9876543210',
      'flags.trunk-association-role-arn': 'arn:aws:iam::111122223333:role/trunk-association',
      'image.digest': `sha256:${'a'.repeat(64)}`,
    };
    const objects = await helmTemplate({ release: 'netsec', namespace, values });

    const options = effectiveOptions(objects, namespace);
    expect(options).toMatchObject({
      logLevel: 'debug',
      podWorkers: 50,
      branchCooldownSeconds: 86400,
      leaderElectionId: 'sgp-netsec',
      metricsBindAddress: { host: '', port: 9090 },
      enableSecurityGroupAnnotations: true,
      securityGroupAnnotationAllowList: ['sg-0123456789abcdef0', 'sg-0fedcba9876543210'],
      trunkAssociationRoleArn: 'arn:aws:iam::111122223333:role/trunk-association',
      webhookServiceName: 'netsec-sgp-operator-webhook',
    });
    expect(options.ec2RateLimits.CreateNetworkInterface.qps).toBe(2.5);
    expect(container(objects).ports).toContainEqual({ name: 'metrics', containerPort: 9090, protocol: 'TCP' });
    expect(container(objects).image).toBe(`ghcr.io/sgp-operator/sgp-operator@sha256:${'a'.repeat(64)}`);
    const leaseRole = objects.find((object) => object.metadata.name === 'netsec-sgp-operator-leader-election-role') as
      (Manifest & { rules: Array<{ resources: string[]; resourceNames?: string[] }> }) | undefined;
    expect(
      leaseRole?.rules.find((rule) => rule.resourceNames && rule.resources[0] === 'leases')?.resourceNames,
    ).toEqual(['sgp-netsec']);
    const username = `system:serviceaccount:${namespace}:sgp`;
    expect(vpodExemption(objects)).toBe(operatorExcluded(username));
    const guard = one(objects, 'ValidatingAdmissionPolicy') as Manifest & {
      spec: { matchConditions: Array<{ expression: string }> };
    };
    expect(guard.spec.matchConditions[0]?.expression).toBe(
      `request.userInfo.username == 'system:serviceaccount:' + '${namespace}' + ':' + 'sgp'`,
    );
    // The webhook configurations keep the names the operator syncs, whatever the release is called.
    expect(one(objects, 'MutatingWebhookConfiguration').metadata.name).toBe('sgp-operator-mutating-webhook');

    const applied = await dryRunApply(await helmTemplateText({ release: 'netsec', namespace, values }));
    expect(applied).toContain('deployment.apps/netsec-sgp-operator-controller-manager');
    expect(applied).toContain('serviceaccount/sgp');
  });

  test('a missing clusterName, an unknown certificate mode and a portless address fail with the value to fix', async () => {
    await expect(helmTemplateText({ values: {} })).rejects.toThrow(/clusterName is required/);
    await expect(helmTemplateText({ values: { ...CLUSTER, 'webhookCertificate.mode': 'vault' } })).rejects.toThrow(
      /webhookCertificate.mode="vault": use operator or cert-manager/,
    );
    await expect(helmTemplateText({ values: { ...CLUSTER, 'flags.webhook-bind-address': ':0' } })).rejects.toThrow(
      /flags.webhook-bind-address=":0": the chart needs a fixed port/,
    );
    await expect(
      helmTemplateText({ values: { ...CLUSTER, 'serviceMonitor.enabled': true, 'flags.metrics-bind-address': '0' } }),
    ).rejects.toThrow(/serviceMonitor.enabled needs \/metrics/);
  });
});
