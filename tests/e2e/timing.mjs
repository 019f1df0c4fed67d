// Bounded waiting: every wait in the suite goes through within(), so nothing hangs.
import { setTimeout as sleep } from 'node:timers/promises'

export const delay = (ms) => sleep(ms)

// How long a single expected event (a frame, a reply, an open) may take.
export const DEFAULT_WAIT_MS = 3_000

export function within(promise, ms, what) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

// Polls predicate (sync or async) until it returns true.
export async function until(predicate, ms, what, stepMs = 20) {
  const deadline = Date.now() + ms
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(stepMs)
  }
}
