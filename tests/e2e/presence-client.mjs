// Presence helpers: phoenix.js's Presence with what it saw recorded (PresenceView), comparable
// forms of presence lists, and probes that read a topic's presence_state as a fresh joiner would.
import { isDeepStrictEqual } from 'node:util'
import { Presence } from 'phoenix'
import { RawClient } from './raw-client.mjs'
import { joinResult } from './phx-client.mjs'
import { delay, DEFAULT_WAIT_MS } from './timing.mjs'

export { Presence }


// A presence state ({key: {metas: [...]}}, from the wire or from phoenix.js) as sorted
// [key, [sorted phx_refs]] pairs. Pairs, not an object, so keys like "__proto__" compare too.
export function presenceEntries(state) {
  return Object.getOwnPropertyNames(state).sort()
    .map((key) => [key, state[key].metas.map((m) => m.phx_ref).sort()])
}

// The same state as sorted [key, number of metas] pairs.
export function metaCounts(state) {
  return Object.getOwnPropertyNames(state).sort().map((key) => [key, state[key].metas.length])
}

// Expected [key, count] pairs from a {key: count} object or a list of keys (one meta each).
export function countsOf(expected) {
  const pairs = Array.isArray(expected) ? expected.map((key) => [key, 1]) : Object.entries(expected)
  return pairs.filter(([, n]) => n > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

const refsOf = (presence) => presence.metas.map((m) => m.phx_ref)

// phoenix.js's Presence on one channel, recording its callbacks. Create it before the join, as an
// app does, so the first presence_state is not missed.
export class PresenceView {
  constructor(channel, name = channel.topic) {
    this.name = name
    this.channel = channel
    this.presence = new Presence(channel)
    this.states = 0       // presence_state events received (one per successful join)
    this.syncs = 0        // onSync calls
    this.lastSyncAt = null
    this.joins = []       // onJoin: {key, refs: joined refs, hadKey: the key was listed before}
    this.leaves = []      // onLeave: {key, refs: left refs, remaining: metas the key still has}
    this.waiters = new Set()
    channel.on('presence_state', () => { this.states += 1 })
    this.presence.onJoin((key, current, joined) => {
      this.joins.push({ key, refs: refsOf(joined), hadKey: Boolean(current) })
    })
    this.presence.onLeave((key, current, left) => {
      this.leaves.push({ key, refs: refsOf(left), remaining: current.metas.length })
    })
    this.presence.onSync(() => {
      this.syncs += 1
      this.lastSyncAt = Date.now()
      for (const check of [...this.waiters]) check()
    })
  }

  // The list as an object {key: {metas}} (prototype-less, as phoenix.js keeps it).
  state() {
    const state = Object.create(null)
    this.presence.list((key, presence) => { state[key] = presence })
    return state
  }

  keys() { return Object.getOwnPropertyNames(this.state()).sort() }
  metas(key) { return this.state()[key]?.metas }
  entries() { return presenceEntries(this.state()) }
  counts() { return metaCounts(this.state()) }

  // Resolves (with the time it became true) once predicate(view) holds, checked now and at every sync.
  waitFor(predicate, what, timeoutMs = DEFAULT_WAIT_MS) {
    return new Promise((resolve, reject) => {
      let timer = null
      const check = () => {
        if (!predicate(this)) return
        this.waiters.delete(check)
        clearTimeout(timer)
        resolve(Date.now())
      }
      timer = setTimeout(() => {
        this.waiters.delete(check)
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} at ${this.name}; it lists ${JSON.stringify(this.entries())}`))
      }, timeoutMs)
      this.waiters.add(check)
      check()
    })
  }

  // Waits until the list has exactly these keys with these numbers of metas.
  waitCounts(expected, timeoutMs) {
    const want = countsOf(expected)
    return this.waitFor((v) => isDeepStrictEqual(v.counts(), want), `the list ${JSON.stringify(want)}`, timeoutMs)
  }

  waitEntries(want, timeoutMs) {
    return this.waitFor((v) => isDeepStrictEqual(v.entries(), want), `the list ${JSON.stringify(want)}`, timeoutMs)
  }
}

// A phoenix.js channel with a PresenceView, joined (fails unless the join is accepted).
export async function joinWithPresence(socket, topic, payload = {}, name = payload.user) {
  const channel = socket.channel(topic, payload)
  const view = new PresenceView(channel, name)
  const result = await joinResult(channel)
  if (result.status !== 'ok') throw new Error(`join ${topic} failed: ${result.status} ${JSON.stringify(result.response)}`)
  return { channel, view }
}

// Waits until every view lists exactly `expected` ({key: count} or a list of keys).
export async function waitAllCounts(views, expected, timeoutMs) {
  await Promise.all(views.map((view) => view.waitCounts(expected, timeoutMs)))
}

let probes = 0

// Reads the topic's presence_state as a client joining now gets it: a raw member joins, takes its
// presence_state and leaves. Returns the state without the probe's own key, the probe's key and
// meta, the state frame's text and the time from the join to the state.
export async function presenceProbe(server, topic, { url = server.wsUrl(), timeoutMs = DEFAULT_WAIT_MS } = {}) {
  const key = `probe-${process.pid}-${++probes}`
  const client = await RawClient.connect(url, { keepPresence: true })
  try {
    const started = process.hrtime.bigint()
    await client.join(topic, { user: key }, '1', timeoutMs)
    let frame
    for (;;) {
      frame = await client.next(timeoutMs)
      if (!frame.binary && JSON.parse(frame.text)[3] === 'presence_state') break
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6
    const message = JSON.parse(frame.text)
    const state = message[4]
    const own = state[key]
    if (!own || own.metas.length !== 1) throw new Error(`the probe's presence_state does not list the probe once: ${frame.text}`)
    delete state[key]
    return { key, own: own.metas[0], state, message, text: frame.text, ms }
  } finally {
    client.close()
  }
}

// Model check: every view must list what a fresh joiner's presence_state lists (same keys, same
// phx_refs). Waits for the views to converge, then returns the probe's entries and its result.
// `settleMs` lets the probe's own join and leave pass by the views (the join goes out at once
// after a quiet spell, the leave then within one presence-diff interval; joined and left within
// one interval, they cancel out).
export async function expectConverged(server, topic, views, { settleMs = 150, timeoutMs = DEFAULT_WAIT_MS } = {}) {
  const probe = await presenceProbe(server, topic)
  const want = presenceEntries(probe.state)
  await delay(settleMs)
  await Promise.all(views.map((view) => view.waitFor(
    (v) => isDeepStrictEqual(v.entries(), want),
    `the list of a fresh joiner's presence_state ${JSON.stringify(want)}`, timeoutMs)))
  return { entries: want, probe }
}
