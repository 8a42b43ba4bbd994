import { RemovalPolicy, SecretValue, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ENV } from '../../lambda/common/env.js';
import { SOCIALPLUS_API_SECRET_PLACEHOLDER } from '../../lambda/fanout/handlers/env.js';
import { HANDLER_STATE_TABLE } from '../../lambda/common/table-schema.js';
import { bindResource, type IBindableFunction } from './node-function.js';
import { keyedTableProps } from './tables.js';

/**
 * What the example handlers' stores call on the state table: GetItem, PutItem and UpdateItem (flags,
 * ban claims, counters, counted markers) and Query (a user's flags in the window). Nothing else, and
 * only on the table itself: it has no indexes.
 */
export const HANDLER_STATE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'] as const;

/** Props for {@link HandlerResources}. */
export interface HandlerResourcesProps {
  /** Create the state table (auto-moderation or daily counters are enabled). */
  readonly stateTable: boolean;
  /** Create the forwarder's bus (eventBridge is enabled). */
  readonly eventBus: boolean;
  /** Provide the Social Plus admin-token secret (a handler may call the API for real). */
  readonly socialPlusSecret: boolean;
  /** Complete ARN of an existing admin-token secret to use instead of creating one. */
  readonly socialPlusApiSecretArn?: string;
}

/**
 * What the example handlers need besides the fan-out, each created only when an enabled handler
 * needs it, so a stack without them pays for nothing and its template stays as before: the state
 * table, the EventBridge bus and the secret holding the Social Plus admin token.
 *
 * The construct ids are fixed: switching a handler off and on again recreates its resource under
 * the same logical id, and the table (retained) and the secret keep theirs while enabled.
 */
export class HandlerResources extends Construct {
  /** Flags, ban claims and daily counters; `PK`/`SK`, TTL on `expiresAt`. For tests and escape hatches, like the two below. */
  readonly stateTable?: dynamodb.TableV2;
  /** The forwarder's bus. */
  readonly eventBus?: events.EventBus;
  /** The admin token's secret, created (holding the placeholder) or imported. */
  readonly socialPlusSecret?: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: HandlerResourcesProps) {
    super(scope, id);
    if (props.stateTable) {
      this.stateTable = new dynamodb.TableV2(this, 'StateTable', {
        ...keyedTableProps(HANDLER_STATE_TABLE),
        encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
        // Ban claims and counters outlive `cdk destroy` like the events do: losing them re-bans and recounts.
        removalPolicy: RemovalPolicy.RETAIN,
      });
    }
    if (props.eventBus) {
      this.eventBus = new events.EventBus(this, 'EventBus', {
        description: 'socialplus-webhooks: Social Plus events forwarded by the fan-out (source socialplus.webhooks)',
      });
    }
    if (props.socialPlusSecret) {
      if (props.socialPlusApiSecretArn !== undefined) {
        this.socialPlusSecret = secretsmanager.Secret.fromSecretCompleteArn(this, 'SocialPlusApiSecret', props.socialPlusApiSecretArn);
      } else {
        const secret = new secretsmanager.Secret(this, 'SocialPlusApiSecret', {
          description:
            'Social Plus admin token the example handlers call the API with: paste it from the Social Plus console ' +
            '(Settings > Admin Users > Admin Token), as the plain token or {"adminToken":"...","apiKey":"..."}.',
          // Not a secret: the value the user replaces with the token the console issues.
          secretStringValue: SecretValue.unsafePlainText(SOCIALPLUS_API_SECRET_PLACEHOLDER),
        });
        Validations.of(secret.node.defaultChild as secretsmanager.CfnSecret).acknowledge({
          id: 'AwsSolutions-SMG4',
          reason:
            'Social Plus issues the admin token in its console (Settings > Admin Users) and only there can it be renewed; a Secrets ' +
            'Manager rotation Lambda cannot create a token Social Plus would accept. Renew it in the console and paste it here.',
        });
        this.socialPlusSecret = secret;
      }
    }
  }

  /** The state table's name, when there is one. */
  get stateTableName(): string | undefined {
    return this.stateTable?.tableName;
  }

  /** The bus's name, when there is one. */
  get eventBusName(): string | undefined {
    return this.eventBus?.eventBusName;
  }

  /** The bus's ARN, when there is one. */
  get eventBusArn(): string | undefined {
    return this.eventBus?.eventBusArn;
  }

  /** The admin token's secret's ARN, when there is one. */
  get socialPlusSecretArn(): string | undefined {
    return this.socialPlusSecret?.secretArn;
  }

  /** Grants exactly {@link HANDLER_STATE_ACTIONS} on the state table, when there is one. */
  grantState(grantee: iam.IGrantable): iam.Grant | undefined {
    if (!this.stateTable) return undefined;
    return iam.Grant.addToPrincipal({ grantee, actions: [...HANDLER_STATE_ACTIONS], resourceArns: [this.stateTable.tableArn] });
  }

  /**
   * Gives the fan-out each resource there is, its variable together with its grant: the state
   * table (`ENV.HANDLER_STATE_TABLE_NAME`, {@link grantState}), the bus (`ENV.EVENT_BUS_NAME`, put
   * events) and the admin token's secret (`ENV.SOCIALPLUS_API_SECRET_ARN`, read).
   */
  bindHandlers(fn: IBindableFunction): void {
    const { stateTable, eventBus, socialPlusSecret } = this;
    if (stateTable) bindResource(fn, (grantee) => this.grantState(grantee), ENV.HANDLER_STATE_TABLE_NAME, stateTable.tableName);
    if (eventBus) bindResource(fn, (grantee) => eventBus.grantPutEventsTo(grantee), ENV.EVENT_BUS_NAME, eventBus.eventBusName);
    if (socialPlusSecret) {
      bindResource(fn, (grantee) => socialPlusSecret.grantRead(grantee), ENV.SOCIALPLUS_API_SECRET_ARN, socialPlusSecret.secretArn);
    }
  }
}
