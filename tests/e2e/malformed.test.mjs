// Malformed input closes only the offending connection (1007, or 1009 for oversized frames);
// the server and a well-behaved phoenix.js client on it carry on.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import {
  startServer, cleanupAll, closeRawClients, RawClient, connectPhx, joinOk, pushResult, EventLog, okReply, v2, cast,
} from './harness.mjs'

const MAX_FRAME = 65_536

const hex = (s) => Buffer.from(s.replace(/\s+/g, ''), 'hex')

// [name, vsn, frame]: each frame must make the server close the connection with 1007.
const INVALID_1007 = [
  ['invalid JSON', '2.0.0', '[null, "1", "room:x", "ping", {]'],
  ['plain text', '2.0.0', 'hello'],
  ['a JSON object on V2', '2.0.0', JSON.stringify({ topic: 'room:x', event: 'ping', payload: {}, ref: '1' })],
  ['a JSON string on V2', '2.0.0', '"room:x"'],
  ['a JSON number on V2', '2.0.0', '42'],
  ['JSON null on V2', '2.0.0', 'null'],
  ['an empty array', '2.0.0', '[]'],
  ['an array of 4 elements', '2.0.0', JSON.stringify([null, '1', 'room:x', 'ping'])],
  ['a numeric topic', '2.0.0', JSON.stringify([null, '1', 42, 'ping', {}])],
  ['a null topic', '2.0.0', JSON.stringify([null, '1', null, 'ping', {}])],
  ['an object as event', '2.0.0', JSON.stringify([null, '1', 'room:x', {}, {}])],
  ['a numeric event', '2.0.0', JSON.stringify([null, '1', 'phoenix', 7, {}])],
  ['binary kind 1 (reply) from a client', '2.0.0', hex('01 01 01 06 02 31 32 72 6f 6f 6d 3a 31 6f 6b be ef')],
  ['binary kind 2 (broadcast) from a client', '2.0.0', hex('02 06 04 72 6f 6f 6d 3a 31 70 69 6e 67 de ad')],
  ['binary kind 7', '2.0.0', hex('07 00 01 06 04 31 72 6f 6f 6d 3a 31 70 69 6e 67')],
  ['binary kind 255', '2.0.0', hex('ff')],
  ['an empty binary frame', '2.0.0', Buffer.alloc(0)],
  ['a binary push whose lengths exceed the frame', '2.0.0', hex('00 05 05 40 40 31 32')],
  ['a binary push cut inside its header', '2.0.0', hex('00 01 01')],
  ['a V1 object without ref', '1.0.0', JSON.stringify({ topic: 'room:x', event: 'phx_join', payload: {} })],
  ['a V1 object without payload', '1.0.0', JSON.stringify({ topic: 'room:x', event: 'phx_join', ref: '1' })],
  ['a V1 object without topic', '1.0.0', JSON.stringify({ event: 'phx_join', payload: {}, ref: '1' })],
  ['a V1 object without event', '1.0.0', JSON.stringify({ topic: 'phoenix', payload: {}, ref: '1' })],
  ['a V2 array on a V1 connection', '1.0.0', JSON.stringify([null, '1', 'phoenix', 'heartbeat', {}])],
  ['invalid JSON on V1', '1.0.0', '{"topic": '],
]

describe('malformed input', () => {
  let server
  let bystander
  let shouts
  let marker = 0

  // The well-behaved client must get replies and broadcasts.
  async function assertBystanderServed(label) {
    const n = ++marker
    assert.deepEqual(await pushResult(bystander, 'ping', { n }), { status: 'ok', response: { n } }, `ping ${label}`)
    cast(bystander, 'shout', { n })
    assert.deepEqual(await shouts.next(), { n }, `shout ${label}`)
  }

  async function expectClose(vsn, frame, code, label) {
    await assertBystanderServed(`before ${label}`)
    const client = await RawClient.connect(server.wsUrl({ vsn }))
    if (typeof frame === 'string') client.send(frame)
    else if (Buffer.isBuffer(frame)) client.send(frame)
    else frame(client)
    const closed = await client.waitClose()
    assert.equal(closed.code, code, `${label}: close code`)
    assert.equal(server.alive, true, `server died on ${label}:\n${server.logTail()}`)
    await assertBystanderServed(`after ${label}`)
  }

  before(async () => {
    server = await startServer(['--max-frame-size', String(MAX_FRAME)])
    const socket = await connectPhx(server)
    bystander = await joinOk(socket, 'room:bystander', { user: 'bystander' })
    shouts = new EventLog(bystander, 'shout')
  })
  afterEach(closeRawClients)
  after(cleanupAll)

  for (const [name, vsn, frame] of INVALID_1007) {
    it(`closes with 1007 on ${name} (vsn ${vsn})`, () => expectClose(vsn, frame, 1007, name))
  }

  it('closes with 1007 on a text frame that is not UTF-8', () =>
    expectClose('2.0.0', (client) => client.sendTextBytes(hex('5b 6e 75 6c 6c ff fe 5d')), 1007, 'invalid UTF-8'))

  it('closes with 1007 when garbage follows valid traffic on a joined connection', () =>
    expectClose('2.0.0', (client) => {
      client.send(v2('1', '1', 'room:bystander', 'phx_join', { user: 'turncoat' }))
      client.send(v2('1', '2', 'room:bystander', 'ping', {}))
      client.send('}{')
    }, 1007, 'garbage after a join'))

  it(`closes with 1009 on a text frame larger than --max-frame-size`, () =>
    expectClose('2.0.0', (client) => client.send(v2(null, '1', 'phoenix', 'heartbeat', { pad: 'x'.repeat(MAX_FRAME) })), 1009, 'oversized text'))

  it(`closes with 1009 on a binary frame larger than --max-frame-size`, () =>
    expectClose('2.0.0', (client) => client.send(Buffer.alloc(MAX_FRAME + 1, 0)), 1009, 'oversized binary'))

  it('accepts a frame just under --max-frame-size', async () => {
    const client = await RawClient.connect(server.wsUrl())
    const frame = v2(null, '1', 'phoenix', 'heartbeat', { pad: 'y'.repeat(MAX_FRAME - 100) })
    assert.ok(JSON.stringify(frame).length < MAX_FRAME)
    client.send(frame)
    assert.deepEqual(await client.nextJson(), okReply(null, '1', 'phoenix', {}))
  })

  it('accepts trailing extra elements in a V2 array', async () => {
    const client = await RawClient.connect(server.wsUrl())
    client.send(JSON.stringify([null, '1', 'phoenix', 'heartbeat', {}, 'extra', 42]))
    assert.deepEqual(await client.nextJson(), okReply(null, '1', 'phoenix', {}))
  })

  it('survives many malformed connections at once', async () => {
    await assertBystanderServed('before the burst')
    const clients = await Promise.all(INVALID_1007.map(([, vsn]) => RawClient.connect(server.wsUrl({ vsn }))))
    clients.forEach((client, i) => client.send(INVALID_1007[i][2]))
    const codes = await Promise.all(clients.map((client) => client.waitClose().then((c) => c.code)))
    assert.deepEqual(codes, INVALID_1007.map(() => 1007))
    assert.equal(server.alive, true)
    await assertBystanderServed('after the burst')
  })
})
