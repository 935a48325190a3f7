// Entry of a check worker thread (bundled to dist/check-worker.mjs). Kept tiny on purpose.
import { runCheckWorker } from '@ahc/checks';

runCheckWorker();
