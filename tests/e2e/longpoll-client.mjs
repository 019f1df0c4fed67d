// Long-poll helpers (docs/protocol.md §8): phoenix.js with its LongPoll transport, and a raw HTTP
// client for exact bodies, headers and ndjson batches.
import { LongPoll } from 'phoenix'
import { phxSocket, connectPhx } from './phx-client.mjs'
import { httpRequest } from './http-client.mjs'
import { within, DEFAULT_WAIT_MS } from './timing.mjs'
import { isPresenceFrame } from './raw-client.mjs'

export { LongPoll }

export const LONGPOLL_PATH = '/socket/longpoll'

// The headers every long-poll JSON answer carries.
export const LONGPOLL_JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'access-control-allow-origin': '*',
}

// A phoenix.js socket over LongPoll (not connected yet). Its endpoint may be ws://…: LongPoll
// rewrites it to http://…/longpoll itself.
export function longPollSocket(server, options = {}) {
  return phxSocket(server, { transport: LongPoll, ...options })
}

// A phoenix.js LongPoll socket that has opened (its first GET answered 410 with a token).
export function connectLongPoll(server, options = {}) {
  return connectPhx(server, { transport: LongPoll, ...options })
}

// Waits for the socket's next open, whatever errors and closes come before it (fallbacks, retries).
export function nextOpen(socket, timeoutMs = DEFAULT_WAIT_MS) {
  return within(new Promise((resolve) => {
    const ref = socket.onOpen(() => {
      socket.off([ref])
      resolve(socket)
    })
  }), timeoutMs, 'the phoenix socket to open')
}

// Stops a phoenix.js LongPoll socket from polling, as a sleeping device would: the GET under way
// still ends, and no GET follows, so the server expires the session. Returns thaw(), which polls
// again (and phoenix.js then meets the 410 of the expired session).
export function freezePolling(socket) {
  const lp = socket.conn
  lp.poll = function () {}
  return () => {
    delete lp.poll
    lp.poll()
  }
}

// A long-poll URL. `query` is an object, or a list of [key, value] pairs when a key repeats;
// null and undefined values are left out.
export function longpollUrl(server, query = { vsn: '2.0.0' }, path = LONGPOLL_PATH) {
  const search = new URLSearchParams()
  for (const [key, value] of Array.isArray(query) ? query : Object.entries(query)) {
    if (value !== null && value !== undefined) search.append(key, String(value))
  }
  const qs = search.toString()
  return server.httpUrl(`${path}${qs ? `?${qs}` : ''}`)
}

// Parses a long-poll answer's JSON body (null when the body is empty or not JSON).
function withJson(res) {
  let json = null
  try { json = res.body === '' ? null : JSON.parse(res.body) } catch { json = null }
  return { ...res, json }
}

const rawLongPolls = new Set()

// One long-poll session driven by hand. Messages taken by GETs are decoded into `inbox`
// (each one a JSON string of a frame, so JSON inside JSON).
export class RawLongPoll {
  constructor(server, { path = LONGPOLL_PATH, query = { vsn: '2.0.0' }, headers = {}, pollTimeoutMs = 12_000, keepPresence = false } = {}) {
    this.server = server
    this.path = path
    this.query = Array.isArray(query) ? query : Object.entries(query)
    this.headers = headers
    this.pollTimeoutMs = pollTimeoutMs
    this.token = null
    this.inbox = []
    this.keepPresence = keepPresence
    this.presence = []  // presence frames set aside, as RawClient does
    this.abort = new AbortController()
    rawLongPolls.add(this)
  }

  // Opens a session: a GET without a token must answer 410 with a token.
  static async open(server, options) {
    const client = new RawLongPoll(server, options)
    const res = await client.request('GET', { token: null })
    if (res.json?.status !== 410 || typeof res.json.token !== 'string') {
      throw new Error(`opening a long-poll session: expected {"status":410,"token":…}, got HTTP ${res.status} ${res.body}`)
    }
    client.token = res.json.token
    return client
  }

  url({ token = this.token, query = this.query } = {}) {
    const pairs = [...query]
    if (token !== null && token !== undefined) pairs.push(['token', token])
    return longpollUrl(this.server, pairs, this.path)
  }

  // One request; `token` defaults to the session's and goes in the query unless null.
  async request(method, { token = this.token, query, headers = {}, body, timeoutMs = DEFAULT_WAIT_MS } = {}) {
    const allHeaders = { ...this.headers, ...headers }
    if (body !== undefined && body !== null) allHeaders['content-length'] = String(Buffer.byteLength(body))
    const res = await httpRequest(this.url({ token, query }), {
      method, headers: allHeaders, body, timeoutMs, signal: this.abort.signal,
    })
    return withJson(res)
  }

  // A GET with the session token (held by the server up to its window). 200 messages go to the inbox.
  async get({ timeoutMs = this.pollTimeoutMs, ...options } = {}) {
    const res = await this.request('GET', { timeoutMs, ...options })
    if (res.json?.status === 200 && Array.isArray(res.json.messages)) {
      for (const text of res.json.messages) {
        const message = JSON.parse(text)
        if (!this.keepPresence && isPresenceFrame(message)) this.presence.push(message)
        else this.inbox.push(message)
      }
    }
    return res
  }

  // POSTs messages as one ndjson batch: arrays and objects become JSON lines, Buffers base64 lines,
  // strings go as they are.
  post(messages, { contentType = 'application/x-ndjson', ...options } = {}) {
    const lines = messages.map((m) => {
      if (Buffer.isBuffer(m)) return m.toString('base64')
      return typeof m === 'string' ? m : JSON.stringify(m)
    })
    return this.postBody(lines.join('\n'), { contentType, ...options })
  }

  postBody(body, { contentType = 'application/x-ndjson', headers = {}, ...options } = {}) {
    const allHeaders = contentType ? { 'content-type': contentType, ...headers } : headers
    return this.request('POST', { body, headers: allHeaders, ...options })
  }

  // POSTs and fails unless the answer is {"status":200}.
  async send(...messages) {
    const res = await this.post(messages)
    if (res.status !== 200 || res.body !== '{"status":200}') {
      throw new Error(`long-poll POST: expected {"status":200}, got HTTP ${res.status} ${res.body}`)
    }
    return res
  }

  // Joins a topic over this session and fails unless the reply is ok.
  async join(topic, payload = {}, joinRef = '1') {
    await this.send([joinRef, joinRef, topic, 'phx_join', payload])
    const reply = await this.next()
    const [j, r, t, event, body] = reply
    if (j !== joinRef || r !== joinRef || t !== topic || event !== 'phx_reply' || body?.status !== 'ok') {
      throw new Error(`long-poll join of ${topic}: got ${JSON.stringify(reply)}`)
    }
    return reply
  }

  // Polls until a set-aside presence frame matches `predicate` (such as listsJoin), so that a
  // GET held afterwards waits for what the test is about, not for the presence of a join it made.
  async settlePresence(predicate, timeoutMs = DEFAULT_WAIT_MS) {
    const deadline = Date.now() + timeoutMs
    while (!this.presence.some(predicate)) {
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no matching presence frame within ${timeoutMs} ms`)
      await this.get({ timeoutMs: left })
    }
  }

  // The next message, polling as long as needed.
  async next(timeoutMs = DEFAULT_WAIT_MS) {
    const deadline = Date.now() + timeoutMs
    while (this.inbox.length === 0) {
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no long-poll message within ${timeoutMs} ms`)
      const res = await this.get({ timeoutMs: left }).catch((err) => {
        throw new Error(`no long-poll message within ${timeoutMs} ms (${err.message})`)
      })
      if (res.json?.status !== 200 && res.json?.status !== 204) {
        throw new Error(`long-poll GET while waiting for a message: HTTP ${res.status} ${res.body}`)
      }
    }
    return this.inbox.shift()
  }

  // Messages up to and including the first that matches `predicate`.
  async until(predicate, timeoutMs = DEFAULT_WAIT_MS) {
    const deadline = Date.now() + timeoutMs
    const taken = []
    for (;;) {
      const message = await this.next(Math.max(deadline - Date.now(), 1))
      taken.push(message)
      if (predicate(message)) return taken
    }
  }

  // Cancels any request still under way (a held GET).
  close() {
    this.abort.abort()
    rawLongPolls.delete(this)
  }
}

export function closeRawLongPolls() {
  for (const client of rawLongPolls) client.close()
  rawLongPolls.clear()
}
