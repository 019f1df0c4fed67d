// The long-poll transport on the wire (docs/protocol.md §8): exact bodies and headers, session tokens,
// ndjson batches, base64 binary lines, CORS, the origin check and session expiry.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import {
  startServer, cleanupAll, cleanupClients, RawClient, RawLongPoll, httpRequest, longpollUrl,
  observeTopic, pushResult, uniqueTopic, okReply, errorReply, v2, binaryPush, binaryBroadcast, delay,
  LONGPOLL_JSON_HEADERS,
  isPresenceFrame, listsJoin,
} from './harness.mjs'

const WINDOW_MS = 500

// HTTP 200 with the JSON headers of every long-poll answer.
function assertJsonAnswer(res, what) {
  assert.equal(res.status, 200, `${what}: HTTP status (body ${res.body})`)
  for (const [name, value] of Object.entries(LONGPOLL_JSON_HEADERS)) {
    assert.equal(res.headers[name], value, `${what}: header ${name}`)
  }
}

function assertNewSession(res, oldToken, what) {
  assertJsonAnswer(res, what)
  assert.equal(typeof res.json?.token, 'string', `${what}: a token in ${res.body}`)
  assert.notEqual(res.json.token, oldToken, `${what}: a new token`)
  assert.deepEqual(res.json, { status: 410, token: res.json.token, messages: [] }, what)
}

// A session-shaped token that the server never signed: the real one with its last hex digit changed.
const tampered = (token) => token.slice(0, -1) + (token.endsWith('0') ? '1' : '0')

describe('long-poll: raw protocol', () => {
  let server
  before(async () => { server = await startServer(['--longpoll', '--longpoll-window-ms', String(WINDOW_MS)]) })
  afterEach(cleanupClients)
  after(cleanupAll)

  const open = (options) => RawLongPoll.open(server, options)

  describe('sessions and polls', () => {
    it('a GET without a token opens a session: {"status":410,"token":T,"messages":[]}', async () => {
      const client = new RawLongPoll(server)
      const first = await client.request('GET', { token: null })
      assertNewSession(first, null, 'first GET')
      assert.ok(first.json.token.length >= 16, `an unguessable token: ${first.json.token}`)
      const second = await client.request('GET', { token: null })
      assertNewSession(second, first.json.token, 'another tokenless GET')
    })

    it('a GET with waiting messages answers 200 at once, each message a JSON string of a V2 frame', async () => {
      const client = await open()
      const topic = uniqueTopic()
      await client.send(v2('1', '1', topic, 'phx_join', { user: 'lp' }), v2('1', '2', topic, 'ping', { n: 'é"\\' }))
      // Give the socket actor time to answer both before polling.
      await delay(100)
      const started = Date.now()
      const res = await client.request('GET', { timeoutMs: WINDOW_MS + 2_000 })
      assert.ok(Date.now() - started < WINDOW_MS, `answered at once, not after the window (${Date.now() - started} ms)`)
      assertJsonAnswer(res, 'GET with messages')
      assert.equal(res.json.status, 200)
      assert.equal(res.json.token, client.token)
      assert.deepEqual(Object.keys(res.json), ['status', 'token', 'messages'])
      assert.ok(res.json.messages.length > 0 && res.json.messages.every((m) => typeof m === 'string'), `messages are strings: ${res.body}`)
      // Normally both replies come in this GET; on a busy machine the second may need another.
      const messages = res.json.messages.map((m) => JSON.parse(m)).filter((m) => !isPresenceFrame(m))
      while (messages.length < 2) messages.push(await client.next())
      assert.deepEqual(messages, [
        okReply('1', '1', topic, { joined: topic }),
        okReply('1', '2', topic, { n: 'é"\\' }),
      ])
    })

    it('an empty GET is held for the window, then answers {"status":204,"token":T,"messages":[]}', async () => {
      const client = await open()
      const started = Date.now()
      const res = await client.request('GET', { timeoutMs: WINDOW_MS + 2_500 }).catch((err) => {
        assert.fail(`a ${WINDOW_MS} ms window, but no answer within ${WINDOW_MS + 2_500} ms (expected 204): ${err.message}`)
      })
      const elapsed = Date.now() - started
      assertJsonAnswer(res, 'empty GET')
      assert.deepEqual(res.json, { status: 204, token: client.token, messages: [] })
      assert.ok(elapsed >= WINDOW_MS - 50, `held for the window: answered after ${elapsed} ms`)
    })

    it('a held GET is answered as soon as a message arrives', async () => {
      const topic = uniqueTopic()
      const client = await open()
      await client.join(topic, { user: 'held' })
      const member = await RawClient.connect(server.wsUrl())
      member.send(v2('1', '1', topic, 'phx_join', { user: 'ws' }))
      assert.deepEqual(await member.nextJson(), okReply('1', '1', topic, { joined: topic }))
      await client.settlePresence((m) => listsJoin(m, 'ws'))
      const started = Date.now()
      const held = client.request('GET', { timeoutMs: WINDOW_MS + 2_000 })
      await delay(100)
      member.send(v2('1', '2', topic, 'shout', { wake: true }))
      const res = await held
      assert.ok(Date.now() - started < WINDOW_MS, `answered before the window ended (${Date.now() - started} ms)`)
      assert.equal(res.json.status, 200)
      assert.deepEqual(res.json.messages.map((m) => JSON.parse(m)), [[null, null, topic, 'shout', { wake: true }]])
    })

    it('POST answers {"status":200}; its replies come through a later GET', async () => {
      const client = await open()
      const topic = uniqueTopic()
      const res = await client.post([v2('1', '1', topic, 'phx_join', { user: 'p' })])
      assertJsonAnswer(res, 'POST')
      assert.equal(res.body, '{"status":200}')
      assert.deepEqual(await client.next(), okReply('1', '1', topic, { joined: topic }))
    })

    it('POST without a valid session answers {"status":410} without a token', async () => {
      const client = await open()
      const ping = JSON.stringify(v2(null, '1', 'room:x', 'ping', {}))
      for (const [what, token] of [['no token', null], ['a garbage token', 'garbage'], ['a tampered token', tampered(client.token)]]) {
        const res = await client.postBody(ping, { token })
        assertJsonAnswer(res, `POST with ${what}`)
        assert.equal(res.body, '{"status":410}', `POST with ${what}`)
      }
    })
  })

  describe('finding the session token', () => {
    it('X-Phoenix-Longpoll-Token names the session without a query token', async () => {
      const client = await open()
      const topic = uniqueTopic()
      const headers = { 'x-phoenix-longpoll-token': client.token }
      const posted = await client.postBody(JSON.stringify(v2('1', '1', topic, 'phx_join', { user: 'h' })), { token: null, headers })
      assert.equal(posted.body, '{"status":200}')
      const res = await client.request('GET', { token: null, headers, timeoutMs: WINDOW_MS + 2_000 })
      assert.equal(res.json?.status, 200, res.body)
      assert.equal(res.json.token, client.token)
      assert.deepEqual(JSON.parse(res.json.messages[0]), okReply('1', '1', topic, { joined: topic }))
    })

    it('the header takes precedence over the query token', async () => {
      const client = await open()
      const res = await client.request('GET', { headers: { 'x-phoenix-longpoll-token': 'not-a-session' } })
      assertNewSession(res, client.token, 'invalid header, valid query token')
    })

    it('the last `token` query parameter wins (phoenix.js 1.8 appends its session token after the app\'s)', async () => {
      const client = await open()
      const topic = uniqueTopic()
      const appTokenFirst = [['vsn', '2.0.0'], ['token', 'bad'], ['token', client.token]]
      const posted = await client.postBody(JSON.stringify(v2('1', '1', topic, 'phx_join', { user: 'q' })), { token: null, query: appTokenFirst })
      assert.equal(posted.body, '{"status":200}', 'POST ?token=bad&token=T')
      const res = await client.request('GET', { token: null, query: appTokenFirst, timeoutMs: WINDOW_MS + 2_000 })
      assert.equal(res.json?.status, 200, `GET ?token=bad&token=T: ${res.body}`)
      assert.equal(res.json.token, client.token)

      const sessionFirst = [['vsn', '2.0.0'], ['token', client.token], ['token', 'app-token']]
      assertNewSession(await client.request('GET', { token: null, query: sessionFirst }), client.token, 'GET ?token=T&token=app-token')
    })
  })

  describe('connect rules', () => {
    for (const [what, query, headers] of [
      ['token=bad', { vsn: '2.0.0', token: 'bad' }, {}],
      ['X-Phoenix-AuthToken: bad', { vsn: '2.0.0' }, { 'x-phoenix-authtoken': 'bad' }],
      ['vsn=3.0.0', { vsn: '3.0.0' }, {}],
    ]) {
      it(`${what} is refused with {"status":403}`, async () => {
        const res = await httpRequest(longpollUrl(server, query), { headers })
        assertJsonAnswer(res, what)
        assert.equal(res.body, '{"status":403}')
      })
    }

    it('a good token, a good X-Phoenix-AuthToken, vsn=1.0.0 and no vsn open sessions', async () => {
      for (const [what, query, headers] of [
        ['token=good', { vsn: '2.0.0', token: 'good' }, {}],
        ['X-Phoenix-AuthToken: good', { vsn: '2.0.0' }, { 'x-phoenix-authtoken': 'good' }],
        ['vsn=1.0.0', { vsn: '1.0.0' }, {}],
        ['no vsn', {}, {}],
      ]) {
        const res = await httpRequest(longpollUrl(server, query), { headers })
        assertNewSession({ ...res, json: JSON.parse(res.body) }, null, what)
      }
    })

    it('vsn=1.0.0: messages are JSON strings of V1 objects', async () => {
      const client = await open({ query: { vsn: '1.0.0' } })
      const topic = uniqueTopic()
      const join = JSON.stringify({ topic, event: 'phx_join', payload: { user: 'v1' }, ref: '1' })
      assert.equal((await client.postBody(join, { contentType: 'application/json' })).body, '{"status":200}')
      assert.deepEqual(await client.next(), { topic, event: 'phx_reply', payload: { status: 'ok', response: { joined: topic } }, ref: '1' })
    })
  })

  describe('POST bodies', () => {
    it('another content type carries one message, newlines included', async () => {
      const client = await open()
      const topic = uniqueTopic()
      await client.join(topic, { user: 'one' })
      for (const contentType of ['application/json', 'text/plain']) {
        const pretty = JSON.stringify(v2('1', contentType, topic, 'ping', { lines: [1, 2] }), null, 2)
        assert.ok(pretty.includes('\n'))
        assert.equal((await client.postBody(pretty, { contentType })).body, '{"status":200}', contentType)
        assert.deepEqual(await client.next(), okReply('1', contentType, topic, { lines: [1, 2] }))
      }
    })

    it('ndjson lines are dispatched in order; \\r\\n separates lines too', async () => {
      const client = await open()
      const topic = uniqueTopic()
      await client.join(topic, { user: 'crlf' })
      const lines = ['a', 'b', 'c'].map((ref) => JSON.stringify(v2('1', ref, topic, 'ping', { ref })))
      assert.equal((await client.postBody(lines.join('\r\n'))).body, '{"status":200}')
      for (const ref of ['a', 'b', 'c']) assert.deepEqual(await client.next(), okReply('1', ref, topic, { ref }))
    })

    it('an ndjson batch of 150 lines dispatches the first 100 only, in order', async () => {
      const client = await open()
      const topic = uniqueTopic()
      await client.join(topic, { user: 'batch' })
      const pings = Array.from({ length: 150 }, (_, i) => v2('1', `p${i}`, topic, 'ping', { i }))
      const res = await client.post(pings)
      assert.equal(res.body, '{"status":200}')
      // Messages are handled in order: once the marker's reply is in, every earlier reply is too.
      await client.send(v2('1', 'marker', topic, 'ping', {}))
      const replies = await client.until((m) => m[1] === 'marker', 5_000)
      const expected = Array.from({ length: 100 }, (_, i) => okReply('1', `p${i}`, topic, { i }))
      assert.deepEqual(replies, [...expected, okReply('1', 'marker', topic, {})])
    })

    it('a base64 line is a V2 binary frame: a binary shout reaches a WebSocket member as a binary broadcast, in batch order', async () => {
      const topic = uniqueTopic()
      const member = await RawClient.connect(server.wsUrl())
      member.send(v2('1', '1', topic, 'phx_join', { user: 'ws' }))
      assert.deepEqual(await member.nextJson(), okReply('1', '1', topic, { joined: topic }))
      const client = await open()
      await client.join(topic, { user: 'lp-bin' })

      const bytes = Buffer.from([0, 1, 2, 0x7f, 0x80, 0xfe, 0xff])
      const res = await client.post([
        v2('1', '2', topic, 'shout', { seq: 0 }),
        binaryPush('1', '3', topic, 'shout', bytes),
        v2('1', '4', topic, 'shout', { seq: 2 }),
        // A binary ping's reply is binary, which long-poll cannot carry: it comes as an error reply.
        binaryPush('1', '5', topic, 'ping', Buffer.from([9])),
        v2('1', '6', topic, 'ping', { last: true }),
      ])
      assert.equal(res.body, '{"status":200}')
      assert.deepEqual(await member.nextJson(), [null, null, topic, 'shout', { seq: 0 }])
      assert.deepEqual(await member.nextBinary(), binaryBroadcast(topic, 'shout', bytes))
      assert.deepEqual(await member.nextJson(), [null, null, topic, 'shout', { seq: 2 }])
      // The long-poll member gets the JSON broadcasts in order and the replies (a broadcast and
      // a reply take different paths, so they may interleave), and nothing binary.
      const taken = []
      const shoutsOf = () => taken.filter((m) => m[3] === 'shout')
      const seen = () => shoutsOf().length === 2 && taken.some((m) => m[1] === '6')
      while (!seen()) taken.push(await client.next())
      assert.deepEqual(shoutsOf(), [[null, null, topic, 'shout', { seq: 0 }], [null, null, topic, 'shout', { seq: 2 }]])
      assert.deepEqual(taken.filter((m) => m[3] !== 'shout'), [
        errorReply('1', '5', topic, { reason: 'long-poll carries no binary frames' }),
        okReply('1', '6', topic, { last: true }),
      ])
    })

    for (const [what, line] of [['a line that is not base64', 'not base64 at all!'], ['a truncated JSON line', '["1","2","room:x","ping"']]) {
      it(`${what} answers HTTP 400 and ends the session (its channels end with "closed")`, async () => {
        const topic = uniqueTopic()
        const obs = await observeTopic(server, topic)
        const client = await open()
        await client.join(topic, { user: 'broken' })
        const res = await client.post([v2('1', '2', topic, 'ping', {}), line, v2('1', '3', topic, 'ping', {})])
        assert.equal(res.status, 400, `HTTP status, body ${res.body}`)
        assert.deepEqual(await obs.left.next(), { user: 'broken', reason: 'closed' })
        assert.equal((await client.postBody(JSON.stringify(v2('1', '4', topic, 'ping', {})))).body, '{"status":410}')
        assertNewSession(await client.request('GET'), client.token, 'GET after the 400')
      })
    }
  })

  describe('CORS and methods', () => {
    it('OPTIONS answers 200 with the CORS preflight headers', async () => {
      const asked = 'x-phoenix-longpoll-token, content-type, x-phoenix-authtoken'
      const res = await httpRequest(longpollUrl(server), {
        method: 'OPTIONS',
        headers: { origin: new URL(server.httpUrl('/')).origin, 'access-control-request-method': 'POST', 'access-control-request-headers': asked },
      })
      assert.equal(res.status, 200)
      assert.equal(res.headers['access-control-allow-origin'], '*')
      assert.equal(res.headers['access-control-allow-methods'], 'get, post, options')
      assert.equal(res.headers['access-control-max-age'], '3600')
      assert.equal(res.headers['access-control-allow-headers'], asked)
      assert.equal(res.body, '')
    })

    it('other methods answer HTTP 400', async () => {
      for (const method of ['PUT', 'DELETE', 'PATCH']) {
        const res = await httpRequest(longpollUrl(server), { method, headers: { 'content-length': '0' } })
        assert.equal(res.status, 400, method)
      }
    })
  })

  describe('ended sessions', () => {
    it('a session without a GET for 1.5 windows ends: its channels end with "closed", POST gets {"status":410}, GET 410 with a new token', async () => {
      const topic = uniqueTopic()
      const obs = await observeTopic(server, topic)
      const client = await open()
      await client.join(topic, { user: 'sleeper' })
      // No GET from now on: 1.5 windows is 750 ms; allow the server's check interval on top.
      await delay(WINDOW_MS * 4)
      const left = await obs.left.next(WINDOW_MS * 4).catch((err) => {
        assert.fail(`no GET for ${WINDOW_MS * 8} ms (1.5 windows is ${WINDOW_MS * 1.5} ms), yet the session's channel did not end: ${err.message}`)
      })
      assert.deepEqual(left, { user: 'sleeper', reason: 'closed' })
      assert.equal((await client.postBody(JSON.stringify(v2('1', '2', topic, 'ping', {})))).body, '{"status":410}')
      const res = await client.request('GET', { timeoutMs: WINDOW_MS + 2_000 })
      assertNewSession(res, client.token, 'GET with the expired token')
      // The new session works.
      client.token = res.json.token
      await client.join(topic, { user: 'sleeper' })
    })

    it('kick ends the session: the held GET answers {"status":410}, then POST {"status":410} and GET 410 with a new token', async () => {
      const userId = `lp-kick-${process.pid}-raw`
      const topic = uniqueTopic()
      const obs = await observeTopic(server, topic)
      const client = await open({ query: { vsn: '2.0.0', user_id: userId } })
      await client.join(topic, { user: 'kicked' })
      await client.settlePresence((m) => listsJoin(m, 'kicked'))
      const held = client.request('GET', { timeoutMs: WINDOW_MS + 2_000 })
      await delay(50)
      assert.equal((await pushResult(obs.channel, 'kick', { socket_id: `users_socket:${userId}` })).status, 'ok')
      const heldRes = await held
      assertJsonAnswer(heldRes, 'the held GET')
      assert.equal(heldRes.body, '{"status":410}')
      assert.deepEqual(await obs.left.next(), { user: 'kicked', reason: 'disconnected' })
      assert.equal((await client.postBody(JSON.stringify(v2('1', '2', topic, 'ping', {})))).body, '{"status":410}')
      assertNewSession(await client.request('GET'), client.token, 'GET after the kick')
    })

    it('a second join of the same topic ends the first with "duplicate_join"', async () => {
      const topic = uniqueTopic()
      const obs = await observeTopic(server, topic)
      const client = await open()
      await client.join(topic, { user: 'dup' })
      await client.send(v2('2', '2', topic, 'phx_join', { user: 'dup' }))
      assert.deepEqual(await client.next(), okReply('2', '2', topic, { joined: topic }))
      assert.deepEqual(await client.next(), ['1', '1', topic, 'phx_close', {}])
      assert.deepEqual(await obs.left.next(), { user: 'dup', reason: 'duplicate_join' })
    })
  })
})

describe('long-poll: configuration', () => {
  afterEach(cleanupClients)
  after(cleanupAll)

  it('is off by default: the long-poll path answers 404', async () => {
    const server = await startServer()
    assert.equal((await httpRequest(longpollUrl(server))).status, 404)
    assert.equal((await httpRequest(longpollUrl(server), { method: 'POST', body: '[]' })).status, 404)
    await server.stop()
  })

  it('--longpoll-path moves the endpoint', async () => {
    const server = await startServer(['--longpoll', '--longpoll-path', '/lp/poll'])
    const res = await httpRequest(longpollUrl(server, { vsn: '2.0.0' }, '/lp/poll'))
    assertNewSession({ ...res, json: JSON.parse(res.body) }, null, 'GET /lp/poll')
    assert.equal((await httpRequest(longpollUrl(server))).status, 404)
    await server.stop()
  })

  it('--check-origin: a foreign Origin gets {"status":403} on GET, POST and OPTIONS', async () => {
    const server = await startServer(['--longpoll', '--check-origin', 'https://good.example'])
    for (const method of ['GET', 'POST', 'OPTIONS']) {
      const res = await httpRequest(longpollUrl(server), { method, headers: { origin: 'https://evil.example', 'content-length': '0' } })
      assertJsonAnswer(res, `${method} from a foreign origin`)
      assert.equal(res.body, '{"status":403}', method)
    }
    for (const headers of [{ origin: 'https://good.example' }, {}]) {
      const res = await httpRequest(longpollUrl(server), { headers })
      assertNewSession({ ...res, json: JSON.parse(res.body) }, null, `GET with ${JSON.stringify(headers)}`)
    }
    await server.stop()
  })

  it('by default a foreign Origin gets {"status":403} on GET, POST and OPTIONS; --check-origin false accepts it', async () => {
    const server = await startServer(['--longpoll'])
    for (const method of ['GET', 'POST', 'OPTIONS']) {
      const res = await httpRequest(longpollUrl(server), { method, headers: { origin: 'https://evil.example', 'content-length': '0' } })
      assertJsonAnswer(res, `${method} from a foreign origin`)
      assert.equal(res.body, '{"status":403}', method)
    }
    await server.stop()
    const open = await startServer(['--longpoll', '--check-origin', 'false'])
    const res = await httpRequest(longpollUrl(open), { headers: { origin: 'https://evil.example' } })
    assertNewSession({ ...res, json: JSON.parse(res.body) }, null, 'GET from a foreign origin with the check off')
    await open.stop()
  })
})
