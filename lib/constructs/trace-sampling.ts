import { Names } from 'aws-cdk-lib';
import * as xray from 'aws-cdk-lib/aws-xray';
import { Construct } from 'constructs';

/** Props for {@link TraceSampling}. */
export interface TraceSamplingProps {
  /** The REST API's name (X-Ray names API Gateway's service `<api name>/<stage>`). */
  readonly apiName: string;
  /** The stage's name. */
  readonly stageName: string;
  /** The share of requests traced, above 0 and at most 1. */
  readonly fixedRate: number;
}

/**
 * An X-Ray sampling rule for the webhook stage: a fixed share of requests, no per-second reservoir.
 * X-Ray's default rule traces the first request of every second and 5 % of the rest, which below
 * one request a second is every request (docs/cost.md). API Gateway makes the decision; the
 * receiver and, through the queue message's trace header, the fan-out follow it.
 */
export class TraceSampling extends Construct {
  readonly rule: xray.CfnSamplingRule;

  constructor(scope: Construct, id: string, props: TraceSamplingProps) {
    super(scope, id);
    this.rule = new xray.CfnSamplingRule(this, 'Rule', {
      samplingRule: {
        // At most 32 characters (4 + 28), unique in the account and region: one per stack.
        ruleName: `spw-${Names.uniqueResourceName(this, { maxLength: 28, separator: '' })}`,
        // Before the default rule (10000), after rules people usually write for their own services.
        priority: 9000,
        fixedRate: props.fixedRate,
        reservoirSize: 0,
        serviceName: `${props.apiName}/${props.stageName}`,
        serviceType: 'AWS::ApiGateway::Stage',
        host: '*',
        httpMethod: 'POST',
        urlPath: '*',
        resourceArn: '*',
        version: 1,
      },
    });
  }
}
