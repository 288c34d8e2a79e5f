import 'reflect-metadata';
import { loadConfig } from './config/config';
import { createLogger } from './log/logger';
import { createGanql } from './server/app';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const ganql = await createGanql(config, log);
  const address = await ganql.listen();
  const host = address.address === '0.0.0.0' || address.address === '::' ? 'localhost' : address.address;

  const shutdown = (signal: string) => {
    log.info('shutting down', { signal });
    ganql.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('unclean shutdown', { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  // Ready only once the signals are handled: a supervisor may send SIGTERM as soon as it reads this line.
  log.info('ganql ready', {
    graphql: `http://${host}:${address.port}/graphql`,
    explorer: `http://${host}:${address.port}/playground`,
    backend: ganql.backend.name,
  });
}

main().catch((error: unknown) => {
  // Start-up errors (bad config, unreachable database) end the process with a clear line.
  process.stderr.write(`ganql failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
