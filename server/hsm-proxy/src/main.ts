/**
 * Entry of the HSM proxy: opens the HSM, serves the API, and on SIGTERM/SIGINT stops accepting,
 * lets requests in flight finish, then closes the HSM (never C_Finalize with calls in flight).
 */
import { fileAuditLog } from './audit';
import { cognitoAuthenticator } from './auth';
import { configFromEnv } from './config';
import { Hsm } from './hsm';
import { createPolicy } from './policy';
import { createProxyServer, SERVICE_NAME } from './server';

async function main(): Promise<void> {
  const config = configFromEnv();
  const hsm = await Hsm.open(config.hsm, config.sessions);
  const audit = fileAuditLog(config.auditLogPath);
  const server = createProxyServer({
    hsm,
    auth: cognitoAuthenticator(config.auth),
    policy: createPolicy(config.policy),
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

  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    server.close(() => {
      void hsm
        .close()
        .then(() => audit.close())
        .then(() => process.exit(0));
    });
    server.closeIdleConnections();
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
