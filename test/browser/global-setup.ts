// Starts the loopback servers the browser tests talk to and hands their addresses to the tests
// through vitest's `provide`/`inject`. Every server binds 127.0.0.1 only.
import type { TestProject } from 'vitest/node';
import { startStaticServer } from '../support/static-server';

declare module 'vitest' {
  export interface ProvidedContext {
    /** http://127.0.0.1:PORT serving the repo root (dist/, demo/, test/fixtures/). */
    staticOrigin: string;
  }
}

export default async function setup(project: TestProject) {
  const stat = await startStaticServer();
  project.provide('staticOrigin', stat.origin);
  return async () => {
    await stat.close();
  };
}
