// Correct diffs for new members (docs/presence.md §1.3): a member that joins while the room churns
// never receives in a presence_diff a join or leave its presence_state already holds, so the
// official clients report every join once and end with exactly the room's presence. Checked with
// phoenix.js 1.8's Presence (onJoin/onLeave, which buffers diffs that come before the state) and
// with the static Presence.syncState/syncDiff of phoenix 1.3, which does not: there a repeated
// join duplicates a meta, and a diff before the state is applied to an empty list.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import WebSocket from 'ws'
import {
  startServer, cleanupAll, cleanupClients, RawClient, uniqueTopic, v2, delay,
  connectPhx, joinResult, Presence, presenceEntries, presenceProbe,
} from './harness.mjs'

const phoenix13 = createRequire(import.meta.url)('phoenix13')
const legacySockets = new Set()

// 1.3's disconnect() detaches its close handler, which is what stops its heartbeat interval.
function closeLegacySockets() {
  for (const socket of legacySockets) {
    clearInterval(socket.heartbeatTimer)
    socket.disconnect()
  }
  legacySockets.clear()
}

const CHURNERS = 12
const CHURN_MS = 3_000
const NEW_MEMBER_EVERY_MS = 120

// Clients that join the topic as churn-<i> and leave again, for `ms`, with random dwell times
// (some inside one coalescing interval, some across several).
async function churn(server, topic, ms) {
  const clients = await Promise.all(Array.from({ length: CHURNERS }, () => RawClient.connect(server.wsUrl())))
  const deadline = Date.now() + ms
  await Promise.all(clients.map(async (client, i) => {
    for (let round = 1; Date.now() < deadline; round++) {
      const ref = String(round)
      client.send(v2(ref, ref, topic, 'phx_join', { user: `churn-${i}` }))
      await client.until((m) => m[1] === ref && m[3] === 'phx_reply')
      await delay(Math.random() * 120)
      client.send(v2(ref, `${ref}l`, topic, 'phx_leave', {}))
      await client.until((m) => m[1] === `${ref}l` && m[3] === 'phx_reply')
      await delay(Math.random() * 60)
    }
  }))
  for (const client of clients) client.close()
}

// What one member's client reported: joins of versions it already listed, and its final list.
class Reports {
  constructor(name) {
    this.name = name
    this.repeatedJoins = []
    this.diffsBeforeState = 0
    this.states = 0
  }

  // `listed`: the key's presence before the join; `joined`: what the diff or state joined.
  joined(key, listed, joined) {
    const had = new Set((listed?.metas ?? []).map((m) => m.phx_ref))
    for (const meta of joined.metas) if (had.has(meta.phx_ref)) this.repeatedJoins.push(`${key}:${meta.phx_ref}`)
  }
}

// A phoenix.js 1.8 member with its Presence, created before the join as an app does.
async function modernMember(server, topic, name) {
  const socket = await connectPhx(server)
  const channel = socket.channel(topic, { user: name })
  const reports = new Reports(name)
  const presence = new Presence(channel)
  presence.onJoin((key, current, joined) => reports.joined(key, current, joined))
  channel.on('presence_state', () => { reports.states += 1 })
  const result = await joinResult(channel)
  assert.equal(result.status, 'ok')
  reports.list = () => {
    const state = Object.create(null)
    presence.list((key, p) => { state[key] = p })
    return state
  }
  return reports
}

// A phoenix 1.3 member: its Socket (V1 JSON objects) and the static Presence functions, used as
// that version's documentation shows.
async function legacyMember(server, topic, name) {
  const socket = new phoenix13.Socket(server.socketEndpoint('/socket'), { transport: WebSocket, timeout: 3_000 })
  legacySockets.add(socket)
  socket.connect()
  const channel = socket.channel(topic, { user: name })
  const reports = new Reports(name)
  let presences = {}
  channel.on('presence_state', (state) => {
    reports.states += 1
    presences = phoenix13.Presence.syncState(presences, state)
  })
  channel.on('presence_diff', (diff) => {
    if (reports.states === 0) reports.diffsBeforeState += 1
    // 1.3's syncDiff merges the joined metas into its own argument, so compare before it runs.
    for (const [key, joined] of Object.entries(diff.joins)) reports.joined(key, presences[key], joined)
    presences = phoenix13.Presence.syncDiff(presences, diff)
  })
  const status = await new Promise((resolve) => {
    channel.join().receive('ok', () => resolve('ok')).receive('error', () => resolve('error')).receive('timeout', () => resolve('timeout'))
  })
  assert.equal(status, 'ok')
  reports.list = () => presences
  return reports
}

async function newMembersDuringChurn(server, join) {
  const topic = uniqueTopic()
  const churning = churn(server, topic, CHURN_MS)
  const members = []
  const started = Date.now()
  for (let i = 0; Date.now() - started < CHURN_MS - 300; i++) {
    members.push(await join(server, topic, `member-${i}`))
    await delay(Math.random() * NEW_MEMBER_EVERY_MS)
  }
  await churning
  // The churners are gone: every member must list exactly what a fresh joiner lists.
  const probe = await presenceProbe(server, topic)
  const want = presenceEntries(probe.state)
  await delay(300)
  return { members, want }
}

function assertExact({ members, want }) {
  assert.ok(members.length >= 10, `only ${members.length} members joined during the churn`)
  for (const m of members) {
    assert.deepEqual(m.repeatedJoins, [], `${m.name} was told again of joins it listed`)
    assert.equal(m.diffsBeforeState, 0, `${m.name} got a presence_diff before its presence_state`)
    assert.equal(m.states, 1, `${m.name}: one presence_state`)
    assert.deepEqual(presenceEntries(m.list()), want, `${m.name}'s final list`)
  }
}

describe('presence diffs for members joining a churning room', () => {
  let server
  before(async () => { server = await startServer() })
  afterEach(async (t) => {
    closeLegacySockets()
    await cleanupClients(t)
  })
  after(cleanupAll)

  it('phoenix.js 1.8 Presence: no join reported twice, and every list ends exact', { timeout: 30_000 }, async (t) => {
    const outcome = await newMembersDuringChurn(server, modernMember)
    t.diagnostic(`${outcome.members.length} members joined during ${CHURN_MS} ms of churn by ${CHURNERS} clients`)
    assertExact(outcome)
  })

  it('phoenix 1.3 static syncState/syncDiff: no duplicated meta, no diff before the state', { timeout: 30_000 }, async (t) => {
    const outcome = await newMembersDuringChurn(server, legacyMember)
    t.diagnostic(`${outcome.members.length} members joined during ${CHURN_MS} ms of churn by ${CHURNERS} clients`)
    assertExact(outcome)
  })
})
