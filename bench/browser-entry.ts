/** Browser entry of the benchmark: exposes runBench to the page (see bench/core.ts). */
export { runBench } from './measure';
