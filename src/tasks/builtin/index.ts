// The built-in example tasks, loaded like any user module of tasks.
export { computePi } from './compute-pi.js';
export { sleep } from './sleep.js';
