// The cluster (docs/cluster.md): three beryl-server processes on 127.0.0.1 joined by CAF's
// middleman, phoenix.js clients on each. Each node is given only one seed: they must find each
// other. Broadcasts cross nodes complete and in order, disconnect by id reaches every node, nodes
// that die, hang or restart are seen as such, and a node with another secret is refused.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import {
  startServer, cleanupAll, cleanupClients, connectPhx, joinOk, cast, EventLog, uniqueTopic,
  httpRequest, nextClose, until, delay, joinWithPresence,
} from './harness.mjs'

const SECRET = 'e2e-cluster-secret'
// Presence goes to the other nodes every 200 ms; a silent node's presences leave after 3 s.
const DOWN_PERIOD_MS = 3_000
const PRESENCE_ARGS = ['--presence-broadcast-ms', '200', '--presence-down-period-ms', String(DOWN_PERIOD_MS)]

// A port the kernel has just handed out and taken back: free for the node about to bind it.
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
}

function startNode(name, clusterPort, peers, { secret = SECRET, extra = [], presence = PRESENCE_ARGS } = {}) {
  const args = ['--node', name, '--cluster-port', String(clusterPort), '--cluster-secret', secret,
    '--no-dashboard', ...presence, ...extra]
  if (peers.length) args.push('--peers', peers.map((p) => `127.0.0.1:${p}`).join(','))
  return startServer(args)
}

async function clusterView(server) {
  const res = await httpRequest(server.httpUrl('/debug/cluster'))
  assert.equal(res.status, 200)
  return JSON.parse(res.body)
}

async function peerStatus(server, node) {
  const view = await clusterView(server)
  return view.peers.find((p) => p.node === node)?.status
}

// Waits until every node sees every other as up.
async function untilMeshUp(nodes, timeoutMs = 5_000) {
  await until(async () => {
    for (const n of nodes) {
      for (const other of nodes) {
        if (other !== n && (await peerStatus(n.server, other.name)) !== 'up') return false
      }
    }
    return true
  }, timeoutMs, 'every node to see every other up')
}

// A phoenix.js member of `topic` on `server`, with phoenix.js's Presence recording what it sees.
async function member(server, topic, user) {
  const socket = await connectPhx(server)
  const { channel, view } = await joinWithPresence(socket, topic, { user })
  return { socket, channel, view }
}

function post(server, path, body = '') {
  return httpRequest(server.httpUrl(path), { method: 'POST', body, headers: { 'content-type': 'application/json' } })
}

describe('cluster: three nodes on 127.0.0.1', () => {
  const nodes = []  // { name, port, server }

  before(async () => {
    const ports = [await freePort(), await freePort(), await freePort()]
    // a has no seed, b knows a, c knows b: c must learn of a from b.
    nodes.push({ name: 'a', port: ports[0], server: await startNode('a', ports[0], [], { extra: ['--enable-crash-injection'] }) })
    nodes.push({ name: 'b', port: ports[1], server: await startNode('b', ports[1], [ports[0]]) })
    nodes.push({ name: 'c', port: ports[2], server: await startNode('c', ports[2], [ports[1]]) })
    await untilMeshUp(nodes)
  })
  afterEach(cleanupClients)
  after(async () => {
    for (const n of nodes) if (n.server.alive) n.server.child.kill('SIGCONT')
    await cleanupAll()
  })

  it('the nodes form a full mesh from one seed each, and /debug/cluster shows it', async () => {
    for (const n of nodes) {
      const view = await clusterView(n.server)
      assert.equal(view.node, n.name)
      const others = nodes.filter((o) => o !== n)
      assert.deepEqual(view.peers.map((p) => p.node).sort(), others.map((o) => o.name))
      for (const p of view.peers) {
        const other = others.find((o) => o.name === p.node)
        assert.equal(p.address, `127.0.0.1:${other.port}`)
        assert.equal(p.status, 'up')
        assert.ok(p.last_heartbeat_ms >= 0 && p.last_heartbeat_ms < 2_000, `last_heartbeat_ms ${p.last_heartbeat_ms}`)
      }
    }
    const metrics = (await httpRequest(nodes[0].server.httpUrl('/metrics'))).body
    assert.match(metrics, /^beryl_cluster_peers_up 2$/m)
  })

  it('broadcasts from a channel reach members on every node, complete and in order', async () => {
    const topic = uniqueTopic()
    const members = []
    for (const n of nodes) members.push(await joinOk(await connectPhx(n.server), topic, { user: `on-${n.name}` }))
    const logs = members.map((channel) => new EventLog(channel, 'shout'))
    const count = 200
    for (let i = 0; i < count; i++) cast(members[0], 'shout', { n: i, text: `message ${i}` })
    for (const log of logs) {
      const got = await log.waitFor(count, 5_000)
      assert.deepEqual(got.map((p) => p.n), [...Array(count).keys()])
    }
    await delay(100)
    for (const log of logs) assert.equal(log.count, count, 'each message once on each node')
  })

  it('broadcast_from skips only the sender: its neighbours on every node get it', async () => {
    const topic = uniqueTopic()
    const sender = await joinOk(await connectPhx(nodes[1].server), topic, { user: 'sender' })
    const sameNode = await joinOk(await connectPhx(nodes[1].server), topic, { user: 'neighbour' })
    const remote = await joinOk(await connectPhx(nodes[2].server), topic, { user: 'remote' })
    const [fromSender, fromNeighbour, fromRemote] =
      [sender, sameNode, remote].map((channel) => new EventLog(channel, 'shout_others'))
    cast(sender, 'shout_others', { text: 'not to myself' })
    assert.deepEqual(await fromNeighbour.next(), { text: 'not to myself' })
    assert.deepEqual(await fromRemote.next(), { text: 'not to myself' })
    await delay(200)
    assert.equal(fromSender.count, 0)
  })

  it('an endpoint broadcast (/api/broadcast) on one node reaches every node', async () => {
    const topic = uniqueTopic()
    const logs = []
    for (const n of nodes) logs.push(new EventLog(await joinOk(await connectPhx(n.server), topic, { user: n.name }), 'announcement'))
    const payload = { text: 'to everyone', n: 2.5 }
    const res = await post(nodes[2].server,
      `/api/broadcast?topic=${encodeURIComponent(topic)}&event=announcement`, JSON.stringify(payload))
    assert.equal(res.status, 202)
    for (const log of logs) assert.deepEqual(await log.next(), payload)
  })

  it('disconnect by socket id closes that id\'s sockets on every node, and no others', async () => {
    const onA = await connectPhx(nodes[0].server, { params: { user_id: 'carol' } })
    const onC = await connectPhx(nodes[2].server, { params: { user_id: 'carol' } })
    const other = await connectPhx(nodes[1].server, { params: { user_id: 'dave' } })
    const closedA = nextClose(onA)
    const closedC = nextClose(onC)
    assert.equal((await post(nodes[1].server, '/api/disconnect?id=users_socket:carol')).status, 202)
    assert.equal(await closedA, 1001)
    assert.equal(await closedC, 1001)
    await delay(200)
    assert.deepEqual(other.closeCodes, [])
  })

  // The intruder checks a's proof first and stops there: neither side sends anything else.
  it('a node with another secret is refused: not a peer, and nothing crosses to it', async () => {
    const port = await freePort()
    const intruder = await startNode('mallory', port, [nodes[0].port], { secret: 'not-the-secret' })
    await until(() => /refused the node at 127\.0\.0\.1:\d+ \('a'\)/.test(intruder.output), 5_000,
      'the intruder to refuse a')
    for (const n of nodes) assert.equal(await peerStatus(n.server, 'mallory'), undefined)
    assert.deepEqual((await clusterView(intruder)).peers, [])
    const topic = uniqueTopic()
    const inside = new EventLog(await joinOk(await connectPhx(nodes[0].server), topic, { user: 'in' }), 'announcement')
    const outside = new EventLog(await joinOk(await connectPhx(intruder), topic, { user: 'out' }), 'announcement')
    await post(nodes[0].server, `/api/broadcast?topic=${encodeURIComponent(topic)}&event=announcement`, '{"x":1}')
    await inside.next()
    await delay(300)
    assert.equal(outside.count, 0)
    await intruder.stop()
  })

  it('a member on one node is in presence on the others within 2 s, with Phoenix\'s payloads', async () => {
    const topic = uniqueTopic()
    const watchers = [await member(nodes[1].server, topic, 'watcher-b'), await member(nodes[2].server, topic, 'watcher-c')]
    const joinedAt = Date.now()
    const alice = await member(nodes[0].server, topic, 'alice')
    for (const w of watchers) {
      await w.view.waitFor((v) => v.keys().includes('alice'), 'alice on another node', 2_000)
      const metas = w.view.metas('alice')
      assert.equal(metas.length, 1)
      assert.deepEqual(metas[0].phx_ref, alice.view.metas('alice')[0].phx_ref, 'the same phx_ref on every node')
      assert.equal(typeof metas[0].online_at, 'number')
    }
    assert.ok(Date.now() - joinedAt <= 2_500)
    // Every node lists every member, one presence each: the watchers see each other and alice.
    const everyone = ['alice', 'watcher-b', 'watcher-c']
    for (const m of [alice, ...watchers]) {
      await m.view.waitFor((v) => v.keys().length === 3, `${m.view.name} to list all three`, 2_000)
      assert.deepEqual(m.view.keys(), everyone)
    }
    // A leave crosses too.
    alice.channel.leave()
    for (const w of watchers) await w.view.waitFor((v) => !v.keys().includes('alice'), 'alice to leave everywhere', 2_000)
    // What replication sent and how late it arrived, in /metrics.
    const metrics = (await httpRequest(nodes[1].server.httpUrl('/metrics'))).body
    assert.ok(Number(/^beryl_cluster_replicated_total (\d+)$/m.exec(metrics)?.[1]) > 0, 'replication messages counted')
    const lag = Number(/^beryl_cluster_replication_lag_seconds (\S+)$/m.exec(metrics)?.[1])
    assert.ok(lag >= 0 && lag < 1, `replication lag ${lag} s`)
    assert.match(metrics, /^beryl_cluster_dropped_total 0$/m)
  })

  it('a crashed cluster actor is restarted by its supervisor, takes its port back and rejoins', async () => {
    const crash = await post(nodes[0].server, '/debug/crash?child=cluster')
    assert.equal(crash.status, 200)
    await until(() => /restarted child 'cluster'/.test(nodes[0].server.output), 2_000, 'the restart')
    await untilMeshUp(nodes, 3_000)
    assert.ok(nodes[0].server.alive)
    const topic = uniqueTopic()
    const onC = new EventLog(await joinOk(await connectPhx(nodes[2].server), topic, { user: 'c' }), 'shout')
    const onA = await joinOk(await connectPhx(nodes[0].server), topic, { user: 'a' })
    cast(onA, 'shout', { after: 'crash' })
    assert.deepEqual(await onC.next(), { after: 'crash' })
  })

  it('a second node under a name already taken is refused on both sides, with an error', async () => {
    const twin = await startNode('a', await freePort(), [nodes[0].port])
    await until(() => /also named 'a'/.test(twin.output), 5_000, 'the twin to refuse a')
    await until(() => /also named 'a'/.test(nodes[0].server.output), 5_000, 'a to refuse the twin')
    assert.deepEqual((await clusterView(twin)).peers, [])
    assert.equal((await clusterView(nodes[0].server)).peers.length, 2)
    await twin.stop()
  })

  it('a SIGSTOPped node is seen down within 5 s, and up again once it resumes', async () => {
    const hung = nodes[2]
    hung.server.child.kill('SIGSTOP')
    const stoppedAt = Date.now()
    try {
      await until(async () => (await peerStatus(nodes[0].server, 'c')) === 'down' &&
        (await peerStatus(nodes[1].server, 'c')) === 'down', 5_000, 'a and b to see c down', 50)
      assert.ok(Date.now() - stoppedAt <= 5_000)
    } finally {
      hung.server.child.kill('SIGCONT')
    }
    await untilMeshUp(nodes, 5_000)
  })

  // A member `user` on `victim`, and a watcher of its topic on node a that sees it.
  async function watchedMember(victim, user) {
    const topic = uniqueTopic()
    const watcher = await member(nodes[0].server, topic, 'watcher')
    await member(victim.server, topic, user)
    await watcher.view.waitFor((v) => v.keys().includes(user), `${user} to show on a`, 2_000)
    return { topic, watcher }
  }

  // SIGKILLs `victim`, waits until every other node sees it down (within 1 s), and returns when
  // it was killed.
  async function killAndSeeDown(victim) {
    victim.server.stopping = true
    victim.server.child.kill('SIGKILL')
    const killedAt = Date.now()
    const others = nodes.filter((n) => n !== victim)
    await until(async () => {
      for (const o of others) if ((await peerStatus(o.server, victim.name)) !== 'down') return false
      return true
    }, 1_000, `every other node to see ${victim.name} down`, 20)
    await victim.server.exited
    assert.ok(Date.now() - killedAt <= 1_000)
    return killedAt
  }

  it('a SIGKILLed node is seen down within 1 s; its presences leave after the down period', async () => {
    const victim = nodes[2]
    const { watcher } = await watchedMember(victim, 'doomed')
    const killedAt = await killAndSeeDown(victim)
    const goneAt = await watcher.view.waitFor((v) => !v.keys().includes('doomed'), 'doomed to leave',
      DOWN_PERIOD_MS + 3_000)
    // Silence is what counts, as in Phoenix.Tracker: not before the down period, soon after it.
    assert.ok(goneAt - killedAt >= DOWN_PERIOD_MS - 500, `left after ${goneAt - killedAt} ms`)
    victim.server = await startNode('c', victim.port, [nodes[0].port])
    await untilMeshUp(nodes, 2_000)
  })

  it('a node stopped with SIGTERM tells the others: its presences leave at once, not after the down period', async () => {
    const victim = nodes[2]
    const { watcher } = await watchedMember(victim, 'leaving')
    const stoppedAt = Date.now()
    const { code, killed } = await victim.server.stop()
    assert.equal(killed, false)
    assert.equal(code, 0)
    const goneAt = await watcher.view.waitFor((v) => !v.keys().includes('leaving'), 'leaving to leave',
      DOWN_PERIOD_MS)
    assert.ok(goneAt - stoppedAt < DOWN_PERIOD_MS / 2, `left after ${goneAt - stoppedAt} ms`)
    assert.match(nodes[0].server.output, /peer 'c' is shutting down/)
    victim.server = await startNode('c', victim.port, [nodes[0].port])
    await untilMeshUp(nodes, 2_000)
  })

  it('a SIGKILLed node restarted under its name rejoins within 2 s, its old presences replaced at once', async () => {
    const victim = nodes[1]
    const { topic, watcher } = await watchedMember(victim, 'old-start')
    await killAndSeeDown(victim)

    const restartedAt = Date.now()
    victim.server = await startNode('b', victim.port, [nodes[2].port])
    await untilMeshUp(nodes, 2_000)
    assert.ok(Date.now() - restartedAt <= 4_000)
    // Broadcasts cross to the new start as to the old.
    const onB = new EventLog(await joinOk(await connectPhx(victim.server), topic, { user: 'b2' }), 'shout')
    const onA = await joinOk(await connectPhx(nodes[0].server), topic, { user: 'a2' })
    cast(onA, 'shout', { after: 'restart' })
    assert.deepEqual(await onB.next(), { after: 'restart' })
    // The new start retires the old one's presences without waiting for the down period, and
    // its own members show.
    await watcher.view.waitFor((v) => !v.keys().includes('old-start') && v.keys().includes('b2'),
      'old-start replaced by b2', 2_000)
    assert.ok(Date.now() - restartedAt < DOWN_PERIOD_MS, 'before the down period')
    const view = await clusterView(nodes[0].server)
    assert.equal(view.peers.filter((p) => p.node === 'b').length, 1, 'one entry per node name')
  })
})

describe('cluster: options and defaults', () => {
  afterEach(cleanupClients)
  after(cleanupAll)

  it('clustering needs a node name and a secret, and --peers needs --cluster-port', async () => {
    const { runServerOnce } = await import('./server.mjs')
    const noSecret = await runServerOnce(['--node', 'a', '--cluster-port', '5999'])
    assert.equal(noSecret.code, 2)
    assert.match(noSecret.stderr, /--cluster-secret/)
    const noName = await runServerOnce(['--cluster-port', '5999', '--cluster-secret', 's'])
    assert.equal(noName.code, 2)
    assert.match(noName.stderr, /--node/)
    const noPort = await runServerOnce(['--peers', '127.0.0.1:5999'])
    assert.equal(noPort.code, 2)
    assert.match(noPort.stderr, /--cluster-port/)
    const badPeer = await runServerOnce(['--peers', '127.0.0.1:0'])
    assert.equal(badPeer.code, 2)
    // Refused before binding anything: peers could not dial a wildcard.
    const wildcard = await runServerOnce(['--node', 'a', '--cluster-port', '5999', '--cluster-secret', 's',
      '--cluster-bind', '0.0.0.0'])
    assert.equal(wildcard.code, 2)
    assert.match(wildcard.stderr, /--cluster-advertise/)
  })

  it('a node is known to the others by its --cluster-advertise address, gossip included', async () => {
    const [pa, pb, pc] = [await freePort(), await freePort(), await freePort()]
    const a = await startNode('adv-a', pa, [], { extra: ['--cluster-advertise', `localhost:${pa}`] })
    const b = await startNode('adv-b', pb, [pa])
    // c is seeded with b only: it can reach a only at the address b's heartbeats pass on.
    const c = await startNode('adv-c', pc, [pb])
    await until(async () => (await peerStatus(c, 'adv-a')) === 'up', 5_000, 'c to reach a through gossip')
    for (const viewer of [b, c]) {
      const seen = (await clusterView(viewer)).peers.find((p) => p.node === 'adv-a')
      assert.equal(seen.address, `localhost:${pa}`)
    }
  })

  it('with the default --presence-broadcast-ms (1.5 s), a member shows on the other node within 2 s', async () => {
    const [pa, pb] = [await freePort(), await freePort()]
    const a = await startNode('solo-a', pa, [], { presence: [] })
    const b = await startNode('solo-b', pb, [pa], { presence: [] })
    await until(async () => (await peerStatus(a, 'solo-b')) === 'up', 5_000, 'the two nodes to connect')
    const topic = uniqueTopic()
    const watcher = await member(b, topic, 'watcher')
    const joinedAt = Date.now()
    await member(a, topic, 'far')
    const seenAt = await watcher.view.waitFor((v) => v.keys().includes('far'), 'far on the other node', 2_000)
    assert.ok(seenAt - joinedAt <= 2_000, `seen after ${seenAt - joinedAt} ms`)
  })

  it('without clustering, /debug/cluster shows this node alone', async () => {
    const server = await startServer(['--no-dashboard'])
    const res = await httpRequest(server.httpUrl('/debug/cluster'))
    assert.equal(res.status, 200)
    assert.deepEqual(JSON.parse(res.body).peers, [])
  })
})
