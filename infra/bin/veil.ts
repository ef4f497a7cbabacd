/**
 * The CDK app: one VeilStack. Settings come from CDK context (`-c name=value` or cdk.json):
 *
 * | context               | meaning                                                        |
 * | --------------------- | -------------------------------------------------------------- |
 * | `stackName`           | default `Veil`                                                 |
 * | `siteDir`             | the built app to publish; default the repository's `dist/`     |
 * | `domainName`          | a custom domain for the site (needs `certificateArn`)          |
 * | `certificateArn`      | an ACM certificate in us-east-1 for `domainName`               |
 * | `cognitoDomainPrefix` | enables the hosted sign-in (SSO) at that Cognito domain        |
 * | `identityProvider`    | the user pool's SSO provider to go to directly (hosted sign-in) |
 * | `allowGuests`         | `true` lets the identity pool hand out guest credentials       |
 * | `hsmProxyUrl`         | the HSM proxy for Model B, with `hsmKeyLabel`                  |
 *
 * The account and region are the CLI's (`CDK_DEFAULT_ACCOUNT`, `CDK_DEFAULT_REGION`, from the
 * profile or `AWS_REGION`).
 */
import { App } from 'aws-cdk-lib';
import { VeilStack } from '../lib/veil-stack';

const app = new App();
const context = (name: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(name);
  return typeof value === 'string' && value !== '' ? value : undefined;
};

const region = process.env.CDK_DEFAULT_REGION ?? process.env.AWS_REGION;
if (!region) throw new Error('Set a region: AWS_REGION, or a region in your AWS profile');
const domainName = context('domainName');
const certificateArn = context('certificateArn');
if ((domainName === undefined) !== (certificateArn === undefined)) {
  throw new Error('domainName and certificateArn go together');
}
const hsmProxyUrl = context('hsmProxyUrl');
const siteDir = context('siteDir');
const cognitoDomainPrefix = context('cognitoDomainPrefix');
const cognitoIdentityProvider = context('identityProvider');

new VeilStack(app, context('stackName') ?? 'Veil', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region },
  ...(siteDir ? { siteDir } : {}),
  ...(domainName && certificateArn ? { domain: { name: domainName, certificateArn } } : {}),
  ...(cognitoDomainPrefix ? { cognitoDomainPrefix } : {}),
  ...(cognitoIdentityProvider ? { cognitoIdentityProvider } : {}),
  allowGuests: context('allowGuests') === 'true',
  ...(hsmProxyUrl
    ? { hsm: { proxyUrl: hsmProxyUrl, keyLabel: context('hsmKeyLabel') ?? 'veil-wrap-1' } }
    : {}),
});
