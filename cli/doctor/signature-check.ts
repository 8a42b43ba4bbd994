/**
 * Which forms of `x-amity-signature` the deployed receiver accepted in the last day, and how many
 * deliveries it refused for their signature: after the first real deliveries, this is how a user
 * learns which form Social Plus signs in (README, "Signature forms").
 */
import { GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../../lambda/common/metrics-contract.js';
import { SIGNATURE_FORM_METRICS } from '../../lambda/core/receive.js';
import { SIGNATURE_FORMS, type SignatureForm } from '../../lambda/core/signature.js';
import { acceptedIn, describeSignatureSplit, signatureSplitFrom } from '../../lambda/core/signature-split.js';
import { pass, warn, type Check } from './check.js';
import { callFailed } from './aws-support.js';
import { awsOf, type DoctorContext } from './context.js';

const DAY_MS = 24 * 60 * 60_000;

/** The split over the last 24 hours; its own check so that a stack with no deliveries yet still passes. */
export const signatureFormsCheck: Check<DoctorContext> = {
  id: 'signature-forms',
  title: 'signature forms (last 24 h)',
  needs: ['stack'],
  async run(ctx) {
    const aws = awsOf(ctx);
    const namespace = ctx.facts.config?.metricsNamespace ?? METRICS_NAMESPACE;
    const query = (id: string, metricName: string): MetricDataQuery => ({
      Id: id,
      MetricStat: {
        Metric: { Namespace: namespace, MetricName: metricName, Dimensions: [{ Name: 'service', Value: METRICS_SERVICE.receiver }] },
        Period: 86_400,
        Stat: 'Sum',
      },
    });
    const id = (form: SignatureForm) => `f${form.replace(/-/g, '')}`;
    const end = ctx.now();
    let results;
    try {
      results =
        (
          await aws.clients.cloudWatch.send(
            new GetMetricDataCommand({
              MetricDataQueries: [...SIGNATURE_FORMS.map((f) => query(id(f), SIGNATURE_FORM_METRICS[f])), query('refused', 'SignatureInvalid')],
              StartTime: new Date(end.getTime() - DAY_MS),
              EndTime: end,
            }),
          )
        ).MetricDataResults ?? [];
    } catch (err) {
      return callFailed(err, "read the receiver's signature metrics", 'cloudwatch:GetMetricData');
    }
    const sum = (key: string) => Math.round((results.find((r) => r.Id === key)?.Values ?? []).reduce((s, v) => s + v, 0));
    const split = signatureSplitFrom((key) => sum(key === 'refused' ? 'refused' : id(key)));
    if (acceptedIn(split) === 0 && split.refused === 0) return pass('no deliveries in the last 24 hours (the forms show once Social Plus sends)');
    if (split.refused > 0) {
      return warn(
        `${describeSignatureSplit(split)}: refused deliveries are lost events`,
        "see docs/runbook.md#socialplussignaturerefused: the receiver's WARN lines name the form that matched (matchedForm), if any",
      );
    }
    const configured = ctx.facts.config?.signatureForms;
    const seen = SIGNATURE_FORMS.filter((f) => split[f] > 0);
    const narrower =
      configured !== undefined && configured.length > seen.length ? ` (only ${seen.join(', ')} seen: signatureForms could be narrowed to that)` : '';
    return pass(`${describeSignatureSplit(split)}${narrower}`);
  },
};
