// Offline validation of Kubernetes objects against the API's own schemas, as shipped by
// kubernetes-models (Kubernetes core and apps) and @kubernetes-models/prometheus-operator (CRDs).
// The schemas check types, enums and required fields; like the API server's OpenAPI schema, they let
// unknown fields through, so the manifest tests cross-check the fields that matter by name.
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

type Model = new (data: any) => { validate(): void };

const MODELS: Record<string, Model> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

/** undefined when `object` is valid; otherwise what is wrong with it. */
export function validateObject(object: K8sObject): string | undefined {
  const model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!model) return `no schema for ${object.apiVersion} ${object.kind}`;
  try {
    new model(object).validate();
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
