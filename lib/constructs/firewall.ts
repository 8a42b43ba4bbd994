import { Stack } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

/** Props for {@link WebhookFirewall}. */
export interface WebhookFirewallProps {
  /** The API stage to protect. */
  readonly stage: apigateway.Stage;
  /** IPv4 CIDRs allowed in (the Social Plus webhook IPs plus any extra); at least one. */
  readonly ipv4Cidrs: readonly string[];
  /**
   * IPv6 CIDRs allowed in; an IPv6 IP set is created only when there are any.
   * @default []
   */
  readonly ipv6Cidrs?: readonly string[];
}

/**
 * A REGIONAL WAFv2 web ACL on the API stage that blocks every request except those from the
 * allowlisted addresses, with CloudWatch metrics and sampled requests on for the ACL and its rule.
 */
export class WebhookFirewall extends Construct {
  /** The web ACL. */
  readonly webAcl: wafv2.CfnWebACL;
  /** The IPv4 allowlist. */
  readonly ipv4Set: wafv2.CfnIPSet;
  /** The IPv6 allowlist, when IPv6 CIDRs were given. */
  readonly ipv6Set?: wafv2.CfnIPSet;

  constructor(scope: Construct, id: string, props: WebhookFirewallProps) {
    super(scope, id);
    if (props.ipv4Cidrs.length === 0) throw new Error('WebhookFirewall needs at least one IPv4 CIDR (the Social Plus webhook IPs)');
    const metricPrefix = Stack.of(this).stackName.replace(/[^A-Za-z0-9]/g, '');

    this.ipv4Set = new wafv2.CfnIPSet(this, 'Ipv4Allowlist', {
      scope: 'REGIONAL',
      ipAddressVersion: 'IPV4',
      addresses: [...props.ipv4Cidrs],
      description: 'Social Plus webhook source IPs of the configured regions, plus allowedCidrs',
    });
    const ipv6Cidrs = props.ipv6Cidrs ?? [];
    if (ipv6Cidrs.length > 0) {
      this.ipv6Set = new wafv2.CfnIPSet(this, 'Ipv6Allowlist', {
        scope: 'REGIONAL',
        ipAddressVersion: 'IPV6',
        addresses: [...ipv6Cidrs],
        description: 'IPv6 allowedCidrs',
      });
    }
    const match = (set: wafv2.CfnIPSet): wafv2.CfnWebACL.StatementProperty => ({ ipSetReferenceStatement: { arn: set.attrArn } });
    const statement: wafv2.CfnWebACL.StatementProperty = this.ipv6Set
      ? { orStatement: { statements: [match(this.ipv4Set), match(this.ipv6Set)] } }
      : match(this.ipv4Set);

    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      description: 'Admits only Social Plus webhook deliveries and allowedCidrs to the webhook API',
      defaultAction: { block: {} },
      rules: [
        {
          name: 'AllowSocialPlusWebhookIps',
          priority: 0,
          action: { allow: {} },
          statement,
          visibilityConfig: { cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: `${metricPrefix}AllowedIps` },
        },
      ],
      visibilityConfig: { cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: `${metricPrefix}WebAcl` },
    });

    const association = new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.stage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
    // The stage ARN is built from the API id and the stage name, which does not make CloudFormation wait for the stage.
    association.node.addDependency(props.stage);
  }
}
