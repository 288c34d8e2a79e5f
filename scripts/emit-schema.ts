/** Writes schema.graphql from the type-graphql classes (`npm run schema`); test/graphql/schema.test.ts fails when it is stale. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { printGanqlSchema } from '../src/graphql/print-schema';

printGanqlSchema()
  .then((sdl) => {
    writeFileSync(path.resolve(__dirname, '../schema.graphql'), sdl);
    console.log('wrote schema.graphql');
  })
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
