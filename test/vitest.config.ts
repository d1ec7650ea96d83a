import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'vite';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: plain .mjs build helper without types
import { inlineWorklets } from '../worklets/build/inline-plugin.mjs';
import { chromiumArgs, chromiumPath } from './support/chromium.mjs';
import { engineProvider, realClick } from './support/engine-provider.mjs';
import { ENGINES } from './support/engines.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Projects: `unit` (Node: pure logic, and the server, CLI and transport over loopback), then per
 * engine (`chromium`, `firefox`, `webkit`) the same browser suite in vitest's browser mode
 * (test/browser) and the end-to-end tests that drive whole pages from Node (test/e2e, told their
 * engine through `inject('engine')`).
 * `npm test` (test/run-tests.mjs) runs them one engine at a time: browsers side by side on two
 * cores starve the fake microphones.
 */
/**
 * Serves dist/ as it is, as a CDN would: Vite's dev server otherwise transforms a .js file it
 * serves (its import analysis rewrites the script-tag bundle's `import(url)` of the hands-free
 * module with an `import` statement, a syntax error in a classic script).
 */
function serveDistAsIs(): Plugin {
  return {
    name: 'talstream-serve-dist-as-is',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const url = (req.url ?? '').split('?')[0]!;
        const file = path.join(root, url);
        if (!url.startsWith('/dist/') || !url.endsWith('.js') || !file.startsWith(path.join(root, 'dist')) || !existsSync(file)) return next();
        res.setHeader('Content-Type', 'text/javascript');
        res.end(readFileSync(file));
      });
    },
  };
}

export default defineConfig({
  root,
  plugins: [inlineWorklets({ compress: false }), serveDistAsIs()],
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
        },
      },
      ...ENGINES.flatMap((engine): TestProjectInlineConfiguration[] => [
        {
          extends: true,
          test: {
            name: engine,
            include: ['test/browser/**/*.test.ts'],
            globalSetup: ['test/browser/global-setup.ts'],
            setupFiles: ['test/browser/engine-setup.ts'],
            testTimeout: 60_000,
            hookTimeout: 60_000,
            fileParallelism: false,
            // Engine note 5: under a loaded 2-core host, WebKitGTK's audio clock runs in bursts and a
            // few wall-clock tests miss their windows now and then (measured: 5 of 107 in one CI run,
            // none of them in a run of WebKit alone). Engine note 8: headless Chromium's fake capture
            // device is timer-driven and drops 5-15 ms of input now and then on a loaded host (a
            // hole at a device switch or late in a take: 2 of 6 full runs this session), engine
            // note 9: so does WebKit's mock device (1.4-107 ms, in 12 of 72 takes). Real-time
            // tests get one retry in every engine, and the run names every test that passed only on
            // its retry (test/run-tests.mjs; CI prints them). TALSTREAM_RETRY=0: none, to see a flaky
            // test's first failure.
            retry: Number(process.env.TALSTREAM_RETRY ?? 1),
            browser: {
              enabled: true,
              headless: true,
              api: { host: '127.0.0.1' },
              provider:
                engine === 'chromium'
                  ? playwright({ launchOptions: { executablePath: chromiumPath(), args: chromiumArgs } })
                  : engineProvider(engine as 'firefox' | 'webkit'),
              instances: [{ browser: engine }],
              commands: { realClick },
              screenshotFailures: false,
            },
          },
        },
        {
          extends: true,
          test: {
            name: `${engine}-e2e`,
            include: ['test/e2e/**/*.test.ts'],
            environment: 'node',
            provide: { engine } as Record<string, unknown>,
            // After the engine's browser-mode project, not beside it (two browsers on two cores).
            sequence: { groupOrder: 1 },
            retry: 1, // engine notes 5 and 8, above
            // The longest e2e test takes 11 s in CI (Firefox). A hung WebKit page (once in a CI
            // run here: the demo's realtime-pacing test, passed on its retry) waits this long
            // before the retry, so 45 s rather than 90 spares the 20-minute CI budget 45 s.
            testTimeout: 45_000,
            hookTimeout: 90_000,
            fileParallelism: false,
          },
        },
      ]),
    ],
  },
});
