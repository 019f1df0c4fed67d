// Presence end to end (docs/presence.md §1) with the demo rooms: joining room:* as {user} tracks the
// member under that key with {online_at}, pushes presence_state after the join reply and
// broadcasts presence_diff (a change after a quiet spell at once, the ones soon after coalesced per
// topic over --presence-diff-ms); "status" updates the meta. Checked through phoenix.js's own Presence at every client, against a fresh joiner's
// presence_state after every step, and frame by frame; every way a member goes away (leave,
// crash, close, kick, idle timeout, long-poll expiry) must leave nothing stale behind.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import {
  startServer, cleanupAll, cleanupClients, RawClient, connectPhx, connectLongPoll, pushResult, cast,
  nextClose, uniqueTopic, okReply, v2, until, delay, isPresenceFrame, freezePolling,
  joinWithPresence, waitAllCounts, presenceProbe, expectConverged, metaCounts, countsOf,
} from './harness.mjs'

const N = 5
const IDLE_MS = 600
const COALESCE_MS = 300
const LONGPOLL_WINDOW_MS = 400

// A phoenix.js client (its own socket) in `topic` as `user`, with a PresenceView.
async function member(server, topic, user, socketOptions = {}) {
  const socket = await connectPhx(server, socketOptions)
  const { channel, view } = await joinWithPresence(socket, topic, { user })
  return { socket, channel, view, user }
}

// A raw V2 member (presence frames set aside unless keepPresence).
async function rawMember(server, topic, user, { query = { vsn: '2.0.0' }, joinRef = '1', keepPresence = false } = {}) {
  const client = await RawClient.connect(server.wsUrl(query), { keepPresence })
  await client.join(topic, { user }, joinRef)
  return client
}

const viewsOf = (members) => members.map((m) => m.view)

function leaveChannel(channel) {
  return new Promise((resolve) => channel.leave().receive('ok', () => resolve('ok')).receive('timeout', () => resolve('timeout')))
}

function disconnect(socket) {
  return new Promise((resolve) => socket.disconnect(resolve))
}

// The onLeave calls a view saw for `key`.
const leavesOf = (view, key) => view.leaves.filter((l) => l.key === key)

describe('presence through phoenix.js Presence', () => {
  let server
  before(async () => { server = await startServer() })
  afterEach(cleanupClients)
  after(cleanupAll)

  it(`${N} clients: every list() has every key once, with one meta {online_at, phx_ref}`, async () => {
    const topic = uniqueTopic()
    const startedAt = Date.now()
    const members = []
    for (let i = 0; i < N; i++) members.push(await member(server, topic, `u${i}`))
    const joinedAt = Date.now()
    const keys = members.map((m) => m.user)
    await waitAllCounts(viewsOf(members), keys)

    const reference = members[0].view.entries()
    assert.equal(new Set(reference.flatMap(([, refs]) => refs)).size, N, 'phx_refs are unique')
    for (const { view } of members) {
      assert.deepEqual(view.entries(), reference, `${view.name} lists the same phx_refs as u0`)
      for (const key of keys) {
        const [meta] = view.metas(key)
        assert.deepEqual(Object.keys(meta).sort(), ['online_at', 'phx_ref'], `meta of ${key} at ${view.name}`)
        assert.ok(Number.isInteger(meta.online_at) && meta.online_at >= startedAt - 1_000 && meta.online_at <= joinedAt + 1_000,
          `online_at of ${key} is the join time in ms: ${meta.online_at} (joins between ${startedAt} and ${joinedAt})`)
        assert.ok(typeof meta.phx_ref === 'string' && meta.phx_ref.length > 0)
      }
      assert.deepEqual([...new Set(view.joins.map((j) => j.key))].sort(), [...keys].sort(), `onJoin for every key at ${view.name}`)
      assert.deepEqual(view.leaves, [], `no onLeave at ${view.name}`)
      assert.equal(view.states, 1, `one presence_state at ${view.name}`)
    }
    await expectConverged(server, topic, viewsOf(members))
  })

  it('channel.leave() and socket.disconnect() remove the member at every other client', async () => {
    const topic = uniqueTopic()
    const members = []
    for (let i = 0; i < N; i++) members.push(await member(server, topic, `u${i}`))
    const keys = members.map((m) => m.user)
    await waitAllCounts(viewsOf(members), keys)
    const [leaver, disconnecter, ...rest] = members
    const ref = (user) => rest[0].view.metas(user)[0].phx_ref
    const leaverRef = ref('u0')
    const disconnecterRef = ref('u1')

    assert.equal(await leaveChannel(leaver.channel), 'ok')
    await waitAllCounts(viewsOf([disconnecter, ...rest]), keys.slice(1))
    for (const { view } of [disconnecter, ...rest]) {
      assert.deepEqual(leavesOf(view, 'u0'), [{ key: 'u0', refs: [leaverRef], remaining: 0 }], `onLeave of u0 at ${view.name}`)
    }

    await disconnect(disconnecter.socket)
    await waitAllCounts(viewsOf(rest), keys.slice(2))
    for (const { view } of rest) {
      assert.deepEqual(leavesOf(view, 'u1'), [{ key: 'u1', refs: [disconnecterRef], remaining: 0 }], `onLeave of u1 at ${view.name}`)
    }
    await expectConverged(server, topic, viewsOf(rest))
  })

  it('a status update shows at every client as one new meta with phx_ref_prev; the key never drops out', async () => {
    const topic = uniqueTopic()
    const members = []
    for (let i = 0; i < 3; i++) members.push(await member(server, topic, `u${i}`))
    await waitAllCounts(viewsOf(members), ['u0', 'u1', 'u2'])
    const updater = members[1]
    const original = members[0].view.metas('u1')[0]

    assert.deepEqual(await pushResult(updater.channel, 'status', { status: 'away' }), { status: 'ok', response: {} })
    await Promise.all(members.map(({ view }) => view.waitFor((v) => v.metas('u1')?.some((m) => m.status === 'away'), 'u1 away')))
    const away = members[0].view.metas('u1')[0]
    assert.notEqual(away.phx_ref, original.phx_ref, 'an update mints a new phx_ref')
    for (const { view } of members) {
      assert.deepEqual(view.metas('u1'), [{ online_at: original.online_at, status: 'away', phx_ref: away.phx_ref, phx_ref_prev: original.phx_ref }],
        `u1's metas at ${view.name}`)
      // Joins are applied before leaves: the old meta goes while the new one is there.
      assert.deepEqual(leavesOf(view, 'u1'), [{ key: 'u1', refs: [original.phx_ref], remaining: 1 }], `onLeave of u1 at ${view.name}`)
    }

    assert.deepEqual(await pushResult(updater.channel, 'status', { status: 'busy' }), { status: 'ok', response: {} })
    await Promise.all(members.map(({ view }) => view.waitFor((v) => v.metas('u1')?.some((m) => m.status === 'busy'), 'u1 busy')))
    const busy = members[0].view.metas('u1')[0]
    for (const { view } of members) {
      assert.deepEqual(view.metas('u1'), [{ online_at: original.online_at, status: 'busy', phx_ref: busy.phx_ref, phx_ref_prev: away.phx_ref }],
        `u1's metas at ${view.name}`)
      assert.ok(leavesOf(view, 'u1').every((l) => l.remaining === 1), `u1 never dropped out at ${view.name}`)
    }
    assert.equal(new Set([original.phx_ref, away.phx_ref, busy.phx_ref]).size, 3)
    await expectConverged(server, topic, viewsOf(members))
  })

  it('two sockets with the same user: one key with two metas; closing one leaves the other\'s meta', async () => {
    const topic = uniqueTopic()
    const watcher = await member(server, topic, 'watcher')
    const first = await member(server, topic, 'twin')
    await watcher.view.waitCounts(['watcher', 'twin'])
    const firstRef = watcher.view.metas('twin')[0].phx_ref
    const second = await member(server, topic, 'twin')
    const all = [watcher, first, second]
    await waitAllCounts(viewsOf(all), { watcher: 1, twin: 2 })
    const refs = watcher.view.metas('twin').map((m) => m.phx_ref)
    const secondRef = refs.find((r) => r !== firstRef)
    assert.ok(refs.includes(firstRef) && secondRef, `two distinct metas: ${refs}`)
    for (const { view } of all) assert.deepEqual(view.entries(), watcher.view.entries(), `same list at ${view.name}`)

    await disconnect(first.socket)
    await waitAllCounts(viewsOf([watcher, second]), { watcher: 1, twin: 1 })
    for (const { view } of [watcher, second]) {
      assert.deepEqual(view.metas('twin').map((m) => m.phx_ref), [secondRef], `the remaining meta at ${view.name}`)
      assert.deepEqual(leavesOf(view, 'twin'), [{ key: 'twin', refs: [firstRef], remaining: 1 }], `onLeave of twin at ${view.name}`)
    }
    await expectConverged(server, topic, viewsOf([watcher, second]))
  })

  it('a crashed channel is removed; its automatic rejoin tracks it again with a new phx_ref and a fresh presence_state', async () => {
    const topic = uniqueTopic()
    const watcher = await member(server, topic, 'watcher')
    const crasher = await member(server, topic, 'crasher')  // rejoinAfterMs starts at 1 s
    await waitAllCounts(viewsOf([watcher, crasher]), ['watcher', 'crasher'])
    const oldRef = watcher.view.metas('crasher')[0].phx_ref
    const errors = []
    crasher.channel.onError((reason) => errors.push(reason))

    cast(crasher.channel, 'crash', {})
    await watcher.view.waitCounts(['watcher'])
    assert.deepEqual(leavesOf(watcher.view, 'crasher'), [{ key: 'crasher', refs: [oldRef], remaining: 0 }])
    assert.deepEqual(errors, [{ reason: 'channel_crash' }])
    assert.equal(crasher.view.states, 1, 'still the first join')

    await watcher.view.waitCounts(['watcher', 'crasher'], 5_000)
    const newRef = watcher.view.metas('crasher')[0].phx_ref
    assert.notEqual(newRef, oldRef, 'the rejoin is a new presence')
    await until(() => crasher.view.states === 2, 3_000, 'the presence_state of the rejoin')
    // The crasher's own list lost its old ref through that fresh presence_state.
    await expectConverged(server, topic, viewsOf([watcher, crasher]))
    assert.deepEqual(crasher.view.metas('crasher').map((m) => m.phx_ref), [newRef])
    assert.equal(crasher.socket.opens, 1)
    assert.deepEqual(crasher.socket.closeCodes, [])
  })

  it('a socket that closes, with a close frame or by dropping the connection, is removed', async () => {
    const topic = uniqueTopic()
    const watcher = await member(server, topic, 'watcher')
    const closer = await rawMember(server, topic, 'closer')
    const dropper = await rawMember(server, topic, 'dropper')
    await watcher.view.waitCounts(['watcher', 'closer', 'dropper'])
    closer.ws.close(1000)
    dropper.ws.terminate()
    await watcher.view.waitCounts(['watcher'])
    assert.deepEqual(watcher.view.leaves.map((l) => l.key).sort(), ['closer', 'dropper'])
    await expectConverged(server, topic, [watcher.view])
  })

  it('kicked sockets are removed: a raw one for good, a phoenix.js one until it rejoins with a new phx_ref and no stale meta', async () => {
    const topic = uniqueTopic()
    const id = `kick-${process.pid}`
    const watcher = await member(server, topic, 'watcher')
    const bystander = await member(server, topic, 'bystander', { params: { user_id: `${id}-other` } })
    const rawVictim = await rawMember(server, topic, 'kicked-raw', { query: { vsn: '2.0.0', user_id: id } })
    const phxVictim = await member(server, topic, 'kicked-phx', { params: { user_id: id } })
    const keys = ['watcher', 'bystander', 'kicked-raw', 'kicked-phx']
    await waitAllCounts(viewsOf([watcher, bystander, phxVictim]), keys)
    const oldRef = watcher.view.metas('kicked-phx')[0].phx_ref
    const phxClosed = nextClose(phxVictim.socket)

    assert.equal((await pushResult(watcher.channel, 'kick', { socket_id: `users_socket:${id}` })).status, 'ok')
    assert.equal((await rawVictim.waitClose()).code, 1001)
    assert.equal(await phxClosed, 1001)
    await Promise.all(viewsOf([watcher, bystander]).map((view) => view.waitFor(
      (v) => v.keys().join() === 'bystander,kicked-phx,watcher' && v.metas('kicked-phx').length === 1 && v.metas('kicked-phx')[0].phx_ref !== oldRef,
      'kicked-raw gone and kicked-phx back with a new phx_ref')))
    for (const { view } of [watcher, bystander]) {
      assert.deepEqual(leavesOf(view, 'kicked-raw').map((l) => l.remaining), [0], `kicked-raw left ${view.name}'s list`)
      assert.ok(leavesOf(view, 'kicked-phx').some((l) => l.refs.includes(oldRef)), `the kicked phoenix.js meta left ${view.name}'s list`)
    }
    await until(() => phxVictim.view.states === 2, 3_000, 'the rejoin\'s presence_state')
    await expectConverged(server, topic, viewsOf([watcher, bystander, phxVictim]))
    assert.deepEqual(bystander.socket.closeCodes, [])
  })

  it('keys such as "__proto__" and "constructor" are sent and listed like any other', async () => {
    const topic = uniqueTopic()
    const watcher = await member(server, topic, 'watcher')
    const odd = ['__proto__', 'constructor', 'hasOwnProperty']
    for (const user of odd) await rawMember(server, topic, user)
    await watcher.view.waitCounts(['watcher', ...odd])
    const probe = await presenceProbe(server, topic)
    assert.match(probe.text, /"__proto__":\{"metas":\[\{/)
    assert.deepEqual(metaCounts(probe.state), countsOf(['watcher', ...odd]))
    await expectConverged(server, topic, [watcher.view])
  })
})

describe('presence and the idle timeout', () => {
  let server
  before(async () => { server = await startServer(['--idle-timeout-ms', String(IDLE_MS)]) })
  afterEach(cleanupClients)
  after(cleanupAll)

  it('a socket closed by the idle timeout is removed; phoenix.js comes back with one fresh meta', async () => {
    const topic = uniqueTopic()
    const watcher = await member(server, topic, 'watcher', { heartbeatIntervalMs: IDLE_MS / 4 })
    const rawIdler = await rawMember(server, topic, 'idle-raw')
    const phxIdler = await member(server, topic, 'idle-phx', { heartbeatIntervalMs: 30_000 })
    await watcher.view.waitCounts(['watcher', 'idle-raw', 'idle-phx'])
    const oldRef = watcher.view.metas('idle-phx')[0].phx_ref
    const phxClosed = nextClose(phxIdler.socket, IDLE_MS * 5)

    assert.equal((await rawIdler.waitClose(IDLE_MS * 5)).code, 1001)
    assert.equal(await phxClosed, 1001)
    // Back with heartbeats this time, so the idle timeout does not take it again.
    phxIdler.socket.heartbeatIntervalMs = IDLE_MS / 4
    await watcher.view.waitFor(
      (v) => v.keys().join() === 'idle-phx,watcher' && v.metas('idle-phx').length === 1 && v.metas('idle-phx')[0].phx_ref !== oldRef,
      'idle-raw gone and idle-phx back with a new phx_ref', IDLE_MS * 5)
    assert.deepEqual(leavesOf(watcher.view, 'idle-raw').map((l) => l.remaining), [0])
    assert.ok(leavesOf(watcher.view, 'idle-phx').some((l) => l.refs.includes(oldRef)), 'the idle phoenix.js meta left')
    await until(() => phxIdler.view.states === 2, 3_000, 'the rejoin\'s presence_state')
    await expectConverged(server, topic, viewsOf([watcher, phxIdler]))
    assert.deepEqual(watcher.socket.closeCodes, [])
  })
})

describe('presence model check', () => {
  let server
  before(async () => { server = await startServer() })
  afterEach(cleanupClients)
  after(cleanupAll)

  it('after every step, every joined client lists exactly what a fresh joiner\'s presence_state lists', async () => {
    const topic = uniqueTopic()
    const live = new Map()
    const step = async (what, expected) => {
      const { probe } = await expectConverged(server, topic, viewsOf([...live.values()])).catch((err) => {
        throw new Error(`after "${what}": ${err.message}`)
      })
      assert.deepEqual(metaCounts(probe.state), countsOf(expected), `after "${what}": the server's presence_state`)
      return probe
    }
    const add = async (name, user, options) => {
      const m = await member(server, topic, user, options)
      live.set(name, m)
      return m
    }

    const alice = await add('alice', 'alice')
    const bob = await add('bob', 'bob')
    // Carol rejoins late enough that the step after her crash settles first, even on a slow
    // machine (its fresh joiner would otherwise snapshot a state her rejoin then changes).
    const carol = await add('carol', 'carol', { rejoinAfterMs: () => 4_000 })
    await step('three joins', { alice: 1, bob: 1, carol: 1 })

    await add('alice-2', 'alice')
    await step('a second session of alice', { alice: 2, bob: 1, carol: 1 })

    assert.equal((await pushResult(bob.channel, 'status', { status: 'away' })).status, 'ok')
    const afterStatus = await step('bob\'s status', { alice: 2, bob: 1, carol: 1 })
    assert.equal(afterStatus.state.bob.metas[0].status, 'away')

    live.delete('carol')
    cast(carol.channel, 'crash', {})
    await step('carol\'s channel crashed', { alice: 2, bob: 1 })
    await until(() => carol.view.states === 2 && carol.channel.isJoined(), 10_000, 'carol\'s automatic rejoin and its presence_state')
    live.set('carol', carol)
    await step('carol rejoined by herself', { alice: 2, bob: 1, carol: 1 })

    live.delete('alice')
    await disconnect(alice.socket)
    await step('one socket of alice disconnected', { alice: 1, bob: 1, carol: 1 })

    live.delete('bob')
    assert.equal(await leaveChannel(bob.channel), 'ok')
    await step('bob left', { alice: 1, carol: 1 })

    await add('erin', 'erin')
    await step('a late joiner', { alice: 1, carol: 1, erin: 1 })
  })
})

describe('presence frames on the wire', () => {
  let server
  before(async () => { server = await startServer() })
  afterEach(cleanupClients)
  after(cleanupAll)

  const diffFrame = (topic, joins, leaves) => [null, null, topic, 'presence_diff', { joins, leaves }]
  const isDiff = (m) => m[3] === 'presence_diff'

  it('presence_state follows the join reply with the join_ref; diffs carry no refs; updates and leaves carry the right metas', async () => {
    const topic = uniqueTopic()
    const startedAt = Date.now()
    const ann = await RawClient.connect(server.wsUrl(), { keepPresence: true })
    await ann.join(topic, { user: 'ann' }, '7')
    const annState = await ann.nextJson()
    assert.deepEqual(annState.slice(0, 4), ['7', null, topic, 'presence_state'])
    const annMeta = annState[4].ann?.metas?.[0]
    assert.deepEqual(annState[4], { ann: { metas: [{ online_at: annMeta?.online_at, phx_ref: annMeta?.phx_ref }] } })
    assert.ok(Number.isInteger(annMeta.online_at) && annMeta.online_at >= startedAt - 1_000 && annMeta.online_at <= Date.now() + 1_000)
    assert.ok(typeof annMeta.phx_ref === 'string' && annMeta.phx_ref.length > 0)
    // ann's own join is in its presence_state, so it never comes again as a diff (below, ann's
    // next diff is ben's join).

    const ben = await RawClient.connect(server.wsUrl(), { keepPresence: true })
    await ben.join(topic, { user: 'ben' }, '3')
    const benState = await ben.nextJson()
    const benMeta = benState[4].ben?.metas?.[0]
    assert.deepEqual(benState, ['3', null, topic, 'presence_state', {
      ann: { metas: [annMeta] },
      ben: { metas: [{ online_at: benMeta?.online_at, phx_ref: benMeta?.phx_ref }] },
    }])
    assert.deepEqual(await ann.until(isDiff), [diffFrame(topic, { ben: { metas: [benMeta] } }, {})])

    // An update: one diff, the new meta (new phx_ref, phx_ref_prev = the old one) in joins and the old meta in leaves.
    ben.send(v2('3', '4', topic, 'status', { status: 'away' }))
    assert.deepEqual(await ben.nextJson(), okReply('3', '4', topic, {}))
    const [away] = await ann.until(isDiff)
    const awayMeta = away[4].joins?.ben?.metas?.[0]
    assert.deepEqual(away, diffFrame(topic,
      { ben: { metas: [{ online_at: benMeta.online_at, status: 'away', phx_ref: awayMeta?.phx_ref, phx_ref_prev: benMeta.phx_ref }] } },
      { ben: { metas: [benMeta] } }))
    assert.deepEqual(await ben.until(isDiff), [away])

    // A second update: its phx_ref_prev is the first update's ref, and its leave is the meta last announced.
    ben.send(v2('3', '5', topic, 'status', { status: 'busy' }))
    assert.deepEqual(await ben.nextJson(), okReply('3', '5', topic, {}))
    const [busy] = await ann.until(isDiff)
    const busyMeta = busy[4].joins?.ben?.metas?.[0]
    assert.deepEqual(busy, diffFrame(topic,
      { ben: { metas: [{ online_at: benMeta.online_at, status: 'busy', phx_ref: busyMeta?.phx_ref, phx_ref_prev: awayMeta.phx_ref }] } },
      { ben: { metas: [awayMeta] } }))

    // A leave carries the last meta.
    ben.send(v2('3', '6', topic, 'phx_leave', {}))
    const leaveFrames = await ann.until(isDiff)
    assert.deepEqual(leaveFrames.filter(isPresenceFrame), [diffFrame(topic, {}, { ben: { metas: [busyMeta] } })])

    const refs = [annMeta.phx_ref, benMeta.phx_ref, awayMeta.phx_ref, busyMeta.phx_ref]
    assert.ok(refs.every((r) => typeof r === 'string' && r.length > 0))
    assert.equal(new Set(refs).size, refs.length, `phx_refs are unique: ${refs}`)
    // The room is back to ann alone, for a fresh joiner too.
    const probe = await presenceProbe(server, topic)
    assert.deepEqual(probe.state, { ann: { metas: [annMeta] } })
  })

  it('presence:* is presence alone: ok {} to the join, then presence_state and diffs, and no "left" broadcast', async () => {
    const topic = uniqueTopic('presence')
    const ann = await RawClient.connect(server.wsUrl(), { keepPresence: true })
    assert.deepEqual(await ann.join(topic, { user: 'ann' }, '1'), okReply('1', '1', topic, {}))
    const [annState] = await ann.until((m) => m[3] === 'presence_state')
    assert.deepEqual(Object.keys(annState[4]), ['ann'])

    const ben = await RawClient.connect(server.wsUrl(), { keepPresence: true })
    await ben.join(topic, { user: 'ben' }, '2')
    const [benState] = await ben.until((m) => m[3] === 'presence_state')
    const benMeta = benState[4].ben.metas[0]
    assert.deepEqual(await ann.until(isDiff), [diffFrame(topic, { ben: { metas: [benMeta] } }, {})])
    // Nothing but the diff reaches ann when ben leaves (room:* would broadcast "left" first).
    ben.send(v2('2', '3', topic, 'phx_leave', {}))
    assert.deepEqual(await ann.until(isDiff), [diffFrame(topic, {}, { ben: { metas: [benMeta] } })])
    ann.send(v2('1', '4', topic, 'ping', { n: 1 }))
    assert.deepEqual(await ann.nextJson(), okReply('1', '4', topic, { n: 1 }))
  })

  it('phx_refs are unique across many joins, sessions and topics', async () => {
    const topics = [uniqueTopic(), uniqueTopic()]
    const refs = []
    for (const topic of topics) {
      for (let i = 0; i < 10; i++) {
        const client = await RawClient.connect(server.wsUrl(), { keepPresence: true })
        await client.join(topic, { user: `same-${i % 3}` })
        const state = await client.nextJson()
        assert.equal(state[3], 'presence_state')
        // The newest meta of its key is the one not seen before.
        const fresh = state[4][`same-${i % 3}`].metas.map((m) => m.phx_ref).filter((r) => !refs.includes(r))
        assert.equal(fresh.length, 1, `one new meta in ${JSON.stringify(state[4])}`)
        refs.push(fresh[0])
      }
    }
    assert.equal(new Set(refs).size, 20)
    const probe = await presenceProbe(server, topics[0])
    assert.deepEqual(metaCounts(probe.state), [['same-0', 4], ['same-1', 3], ['same-2', 3]])
  })
})

describe(`presence diffs coalesced over --presence-diff-ms ${COALESCE_MS}`, () => {
  let server
  before(async () => { server = await startServer(['--presence-diff-ms', String(COALESCE_MS)]) })
  afterEach(cleanupClients)
  after(cleanupAll)

  const isDiff = (m) => m[3] === 'presence_diff'

  // A raw member whose presence_state has arrived: it goes out right after the diff carrying its
  // own join, so changes for the next COALESCE_MS are held and coalesced (`obs.windowFrom`).
  async function settledObserver(topic) {
    const obs = await rawMember(server, topic, 'obs', { keepPresence: true })
    const [state] = (await obs.until((m) => m[3] === 'presence_state', COALESCE_MS * 5)).slice(-1)
    obs.windowFrom = Date.now()
    assert.ok(state[4].obs, 'the observer lists itself')
    return obs
  }

  // The changes a test makes must come while the last diffs' window is open.
  function assertWithinWindow(windowFrom, changedAt) {
    assert.ok(changedAt - windowFrom < COALESCE_MS / 2, `precondition: the changes came ${changedAt - windowFrom} ms after the last diffs, not within their ${COALESCE_MS} ms window`)
  }

  // Presence frames the raw client received but the test has not read.
  const unreadPresence = (client) => client.inbox.filter((f) => !f.binary).map((f) => JSON.parse(f.text)).filter(isPresenceFrame)

  it('after a quiet spell a change goes out at once; the next, right after, waits for the interval', async () => {
    const topic = uniqueTopic()
    const obs = await settledObserver(topic)
    const [first, second] = await Promise.all([RawClient.connect(server.wsUrl()), RawClient.connect(server.wsUrl())])
    await delay(COALESCE_MS * 1.5)
    const started = Date.now()
    await first.join(topic, { user: 'first' })
    const [prompt] = (await obs.until(isDiff, COALESCE_MS * 5)).filter(isPresenceFrame)
    const promptAt = Date.now()
    assert.deepEqual(Object.keys(prompt[4].joins), ['first'])
    assert.ok(promptAt - started < COALESCE_MS / 2, `the lone join's diff came after ${promptAt - started} ms, held as if in an interval`)

    const next = Date.now()
    await second.join(topic, { user: 'second' })
    assertWithinWindow(promptAt, Date.now())
    const [held] = (await obs.until(isDiff, COALESCE_MS * 5)).filter(isPresenceFrame)
    const heldMs = Date.now() - next
    assert.deepEqual(Object.keys(held[4].joins), ['second'])
    assert.ok(heldMs >= COALESCE_MS * 0.8, `the join right after came in ${heldMs} ms, before its ${COALESCE_MS} ms interval ended`)
  })

  it('a member that joins and leaves within one interval is never announced', async () => {
    const topic = uniqueTopic()
    const flash = await RawClient.connect(server.wsUrl())
    const obs = await settledObserver(topic)
    const started = Date.now()
    await flash.join(topic, { user: 'flash' })
    flash.send(v2('1', '2', topic, 'phx_leave', {}))
    await flash.until((m) => m[1] === '2' && m[3] === 'phx_reply')
    const lifetime = Date.now() - started
    assertWithinWindow(obs.windowFrom, started)
    assert.ok(lifetime < COALESCE_MS / 2, `precondition: join and leave took ${lifetime} ms, not within one ${COALESCE_MS} ms interval`)
    // flash left before its presence_state was due (it goes out with the interval's diff).
    assert.deepEqual(flash.presence.filter((m) => m[3] === 'presence_state'), [])

    await delay(COALESCE_MS * 2)
    const later = await rawMember(server, topic, 'later')
    const frames = (await obs.until((m) => isDiff(m) && m[4].joins.later, COALESCE_MS * 5)).filter(isPresenceFrame)
    assert.deepEqual(frames.map((m) => [Object.keys(m[4].joins), Object.keys(m[4].leaves)]), [[['later'], []]],
      `the observer's diffs: ${JSON.stringify(frames)}`)
    assert.ok(later.isOpen)
  })

  it('joins within one interval arrive in one diff, not before the interval ends', async () => {
    const topic = uniqueTopic()
    const users = ['j0', 'j1', 'j2', 'j3']
    const clients = await Promise.all(users.map(() => RawClient.connect(server.wsUrl())))
    const obs = await settledObserver(topic)
    const started = Date.now()
    assertWithinWindow(obs.windowFrom, started)
    clients.forEach((c, i) => c.send(v2('1', '1', topic, 'phx_join', { user: users[i] })))
    await Promise.all(clients.map((c) => c.until((m) => m[1] === '1' && m[3] === 'phx_reply')))
    const frames = (await obs.until(isDiff, COALESCE_MS * 5)).filter(isPresenceFrame)
    const elapsed = Date.now() - started
    assert.equal(frames.length, 1)
    const [diff] = frames
    assert.deepEqual(Object.keys(diff[4].joins).sort(), users, `one diff with every join: ${JSON.stringify(diff)}`)
    assert.deepEqual(diff[4].leaves, {})
    assert.ok(users.every((u) => diff[4].joins[u].metas.length === 1))
    assert.ok(elapsed >= COALESCE_MS * 0.8, `the diff came ${elapsed} ms after the joins, before the ${COALESCE_MS} ms interval ended`)
    await delay(COALESCE_MS * 2)
    assert.deepEqual(unreadPresence(obs), [], 'no second diff')
  })

  it('an update and a leave within one interval: one diff with only the leave of the meta the others knew', async () => {
    const topic = uniqueTopic()
    const obs = await settledObserver(topic)
    const upd = await rawMember(server, topic, 'upd', { keepPresence: true })
    const [state] = await upd.until((m) => m[3] === 'presence_state')
    const original = state[4].upd.metas[0]
    await obs.until((m) => isDiff(m) && m[4].joins.upd, COALESCE_MS * 5)
    const windowFrom = Date.now()
    upd.send(v2('1', '2', topic, 'status', { status: 'away' }))
    upd.send(v2('1', '3', topic, 'phx_leave', {}))
    await upd.until((m) => m[1] === '3' && m[3] === 'phx_reply')
    assertWithinWindow(windowFrom, Date.now())
    const frames = (await obs.until(isDiff, COALESCE_MS * 5)).filter(isPresenceFrame)
    assert.deepEqual(frames, [[null, null, topic, 'presence_diff', { joins: {}, leaves: { upd: { metas: [original] } } }]])
    await delay(COALESCE_MS * 2)
    assert.deepEqual(unreadPresence(obs), [], 'no second diff')
  })

  it('a leave and a rejoin within one interval: one diff with the new meta in joins and the old in leaves', async () => {
    const topic = uniqueTopic()
    const obs = await settledObserver(topic)
    const rj = await rawMember(server, topic, 'rj', { keepPresence: true })
    const [first] = await rj.until((m) => m[3] === 'presence_state')
    const original = first[4].rj.metas[0]
    await obs.until((m) => isDiff(m) && m[4].joins.rj, COALESCE_MS * 5)
    const windowFrom = Date.now()
    rj.send(v2('1', '2', topic, 'phx_leave', {}))
    rj.send(v2('3', '3', topic, 'phx_join', { user: 'rj' }))
    await rj.until((m) => m[1] === '3' && m[3] === 'phx_reply')
    assertWithinWindow(windowFrom, Date.now())
    const [second] = (await rj.until((m) => m[0] === '3' && m[3] === 'presence_state', COALESCE_MS * 5)).slice(-1)
    const renewed = second[4].rj.metas[0]
    assert.deepEqual(second[4].rj.metas, [renewed], 'the rejoined member has one meta')
    assert.notEqual(renewed.phx_ref, original.phx_ref)
    assert.equal('phx_ref_prev' in renewed, false, 'a new join, not an update')
    const frames = (await obs.until(isDiff, COALESCE_MS * 5)).filter(isPresenceFrame)
    assert.deepEqual(frames, [[null, null, topic, 'presence_diff', { joins: { rj: { metas: [renewed] } }, leaves: { rj: { metas: [original] } } }]])
  })
})

describe('presence over long-poll', () => {
  let server
  before(async () => { server = await startServer(['--longpoll', '--longpoll-window-ms', String(LONGPOLL_WINDOW_MS)]) })
  afterEach(cleanupClients)
  after(cleanupAll)

  it('long-poll and WebSocket clients list each other; an expired session is removed, then rejoins with a new phx_ref', async () => {
    const topic = uniqueTopic()
    const wsMember = await member(server, topic, 'ws-user')
    const lpSocket = await connectLongPoll(server, { rejoinAfterMs: () => 50 })
    const lp = { socket: lpSocket, ...(await joinWithPresence(lpSocket, topic, { user: 'lp-user' })) }
    await waitAllCounts([wsMember.view, lp.view], ['ws-user', 'lp-user'])
    await expectConverged(server, topic, [wsMember.view, lp.view])

    assert.equal((await pushResult(lp.channel, 'status', { status: 'away' })).status, 'ok')
    await Promise.all([wsMember.view, lp.view].map((view) => view.waitFor((v) => v.metas('lp-user')?.[0]?.status === 'away', 'lp-user away')))
    const oldRef = wsMember.view.metas('lp-user')[0].phx_ref
    assert.equal(lp.view.metas('lp-user')[0].phx_ref, oldRef)

    // The long-poll client stops polling: 1.5 windows later the server ends its session.
    assert.equal((await pushResult(lp.channel, 'ping', { last: 'before sleep' })).status, 'ok')
    const thaw = freezePolling(lpSocket)
    await wsMember.view.waitCounts(['ws-user'], LONGPOLL_WINDOW_MS * 8)
    assert.deepEqual(leavesOf(wsMember.view, 'lp-user').at(-1), { key: 'lp-user', refs: [oldRef], remaining: 0 })

    const closed = nextClose(lpSocket)
    thaw()
    assert.equal(await closed, 3410)
    await until(() => lp.view.states === 2 && lp.channel.isJoined(), 4_000, 'the long-poll client\'s rejoin and presence_state')
    await wsMember.view.waitCounts(['ws-user', 'lp-user'])
    const [renewed] = wsMember.view.metas('lp-user')
    assert.notEqual(renewed.phx_ref, oldRef)
    assert.equal('status' in renewed, false, 'the rejoin tracks a fresh meta')
    await expectConverged(server, topic, [wsMember.view, lp.view])
  })
})
