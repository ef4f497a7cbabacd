/**
 * Entry of the HSM proxy: opens the HSM, serves the API (and, when VEIL_XKS_PORT is set, the AWS
 * KMS XKS API on its own TLS port, xks/), and on SIGTERM/SIGINT stops accepting, lets requests
 * in flight finish, then closes the HSM (never C_Finalize with calls in flight). SIGHUP reloads
 * the XKS settings file.
 */
import { openAuditLog } from './audit';
import { cognitoAuthenticator } from './auth';
import { configFromEnv } from './config';
import { Hsm } from './hsm';
import { createPolicy } from './policy';
import { createProxyServer, SERVICE_NAME } from './server';
import { xksListenFromEnv } from './xks/config';
import { startXks } from './xks/start';

async function main(): Promise<void> {
  const config = configFromEnv();
  const xksListen = xksListenFromEnv(process.env);
  const audit = await openAuditLog(config.auditLogPath);
  const hsm = await Hsm.open(config.hsm, config.sessions);
  const policy = createPolicy(config.policy);
  if (policy.migrationMode) {
    console.warn(
      `${SERVICE_NAME}: the policy has no "labels" section, so every label still opens legacy wraps (made before keys were bound to their owner) for anyone it grants; see server/hsm-proxy/README.md`,
    );
  }
  const server = createProxyServer({
    hsm,
    auth: cognitoAuthenticator(config.auth),
    policy,
    audit,
    config,
  });
  server.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const scheme = config.tls ? 'https' : 'http';
    console.log(
      `${SERVICE_NAME} listening on ${scheme}://${config.host}:${port} (token ${hsm.tokenLabel})`,
    );
  });

  const xks = xksListen ? startXks(xksListen, hsm, audit, policy) : undefined;
  if (xks && xksListen) {
    xks.server.listen(xksListen.port, xksListen.host, () => {
      const address = xks.server.address();
      const port = typeof address === 'object' && address ? address.port : xksListen.port;
      console.log(`${SERVICE_NAME} XKS API listening on https://${xksListen.host}:${port}`);
    });
    process.on('SIGHUP', () => xks.reload());
  }

  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    const closed = [server, ...(xks ? [xks.server] : [])].map(
      (listener) =>
        new Promise<void>((resolve) => {
          listener.close(() => resolve());
          listener.closeIdleConnections();
        }),
    );
    void Promise.all(closed)
      .then(() => hsm.close())
      .then(() => audit.close())
      .then(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  console.error(
    `${SERVICE_NAME} could not start: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});
