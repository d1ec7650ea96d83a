// Starts the loopback servers the browser tests talk to and hands their addresses to the tests
// through vitest's `provide`/`inject`. Every server binds 127.0.0.1 only.
import type { TestProject } from 'vitest/node';
import { startStaticServer } from '../support/static-server';
import { startUploadServers } from '../support/h2-server';
import { startReplyServer } from '../support/reply-server';
import { startReferenceServer } from '../../src/server/reference-server';
import { startFaultServer } from '../support/fault-server';

declare module 'vitest' {
  export interface ProvidedContext {
    /** http://127.0.0.1:PORT serving the repo root (dist/, demo/, test/fixtures/). */
    staticOrigin: string;
    /** Upload test servers (test/support/h2-server.ts): https HTTP/2, https HTTP/1.1, http HTTP/1.1. */
    uploadH2Origin: string;
    uploadH1sOrigin: string;
    uploadH1Origin: string;
    /** Golden reply vectors over real HTTP, chunked and paced (test/support/reply-server.ts). */
    replyOrigin: string;
    /** The reference server (src/server/reference-server.ts): POST /ask, /demo/, /dist/. */
    refOrigin: string;
    /** The fault-injecting server (test/support/fault-server.ts): bad answers, drops, stalls; GET /stats?id=. */
    faultOrigin: string;
  }
}

export default async function setup(project: TestProject) {
  const stat = await startStaticServer();
  project.provide('staticOrigin', stat.origin);
  const uploads = await startUploadServers();
  project.provide('uploadH2Origin', uploads.h2Origin);
  project.provide('uploadH1sOrigin', uploads.h1sOrigin);
  project.provide('uploadH1Origin', uploads.h1Origin);
  const replies = await startReplyServer();
  project.provide('replyOrigin', replies.origin);
  const ref = await startReferenceServer({ port: 0 });
  project.provide('refOrigin', ref.origin);
  const faults = await startFaultServer();
  project.provide('faultOrigin', faults.origin);
  return async () => {
    await stat.close();
    await uploads.close();
    await replies.close();
    await ref.close();
    await faults.close();
  };
}
